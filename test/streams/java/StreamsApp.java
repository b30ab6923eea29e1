// A real Kafka Streams application (not the TopologyTestDriver) running the five topologies of
// streams-vs-java-kafka.test.ts on a cluster: exactly_once_v2, cache disabled, commit every 100 ms,
// repartition topics purged every 100 ms.
// args: <bootstrap> <applicationId> <input prefix> <output prefix> <state dir>
// Inputs: <in>-words, <in>-win, <in>-table, <in>-stream, <in>-mleft, <in>-mright. Outputs:
// <out>-wordcount, <out>-tumbling, <out>-hopping, <out>-session, <out>-join, <out>-left, <out>-merge
// (a merge of two topics reduced by key: the order a task takes records across its partitions). Prints RUNNING when it runs, ERROR and
// the exception when it fails; closes when stdin ends. The same topologies are built with
// kafkats/streams in test/streams/helpers/five-topologies.ts.
import java.io.InputStream;
import java.time.Duration;
import java.util.*;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.*;

public class StreamsApp {
  static final Serde<String> S = Serdes.String();
  static final Serde<Long> L = Serdes.Long();

  static <V> KStream<String, V> flat(KTable<Windowed<String>, V> t) {
    return t.toStream().map((wk, v) -> KeyValue.pair(wk.key() + "@" + wk.window().start() + "-" + wk.window().end(), v));
  }

  public static void main(String[] args) throws Exception {
    String in = args[2], out = args[3];
    StreamsBuilder b = new StreamsBuilder();

    b.stream(in + "-words", Consumed.with(S, S))
        .filter((k, v) -> v != null)
        .flatMapValues(v -> Arrays.asList(v.toLowerCase().split("\\W+")))
        .filter((k, w) -> !w.isEmpty())
        .groupBy((k, w) -> w, Grouped.with(S, S))
        // count(), not count(Materialized.with(S, L)): that one burns a name index (for
        // compatibility, KGroupedStreamImpl) and every later store would be named one further.
        .count()
        .toStream()
        .to(out + "-wordcount", Produced.with(S, L));

    KGroupedStream<String, String> g = b.stream(in + "-win", Consumed.with(S, S)).groupByKey(Grouped.with(S, S));
    flat(g.windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(100), Duration.ofMillis(20))).count(Materialized.with(S, L)))
        .to(out + "-tumbling", Produced.with(S, L));
    flat(g.windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(100)).advanceBy(Duration.ofMillis(40)))
            .aggregate(() -> 0L, (k, v, a) -> a + v.length(), Materialized.with(S, L)))
        .to(out + "-hopping", Produced.with(S, L));
    flat(g.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(30), Duration.ofMillis(10))).count(Materialized.with(S, L)))
        .to(out + "-session", Produced.with(S, L));

    KTable<String, String> t = b.table(in + "-table", Consumed.with(S, S));
    KStream<String, String> s = b.stream(in + "-stream", Consumed.with(S, S));
    s.join(t, (v, tv) -> v + "+" + tv).to(out + "-join", Produced.with(S, S));
    s.leftJoin(t, (v, tv) -> v + "+" + tv).to(out + "-left", Produced.with(S, S));

    b.stream(in + "-mleft", Consumed.with(S, S))
        .merge(b.stream(in + "-mright", Consumed.with(S, S)))
        .groupByKey(Grouped.with(S, S))
        .reduce((a, v) -> a + "," + v, Materialized.with(S, S))
        .toStream()
        .to(out + "-merge", Produced.with(S, S));

    Properties p = new Properties();
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
    p.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    // Purged soon after each commit, so the test can compare where the repartition topics start.
    p.put(StreamsConfig.REPARTITION_PURGE_INTERVAL_MS_CONFIG, 100);
    p.put(StreamsConfig.consumerPrefix("session.timeout.ms"), 6000);

    KafkaStreams app = new KafkaStreams(b.build(), p);
    app.setStateListener((next, old) -> {
      if (next == KafkaStreams.State.RUNNING || next == KafkaStreams.State.ERROR) {
        System.out.println(next);
        System.out.flush();
      }
    });
    app.setUncaughtExceptionHandler(e -> {
      e.printStackTrace();
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    app.start();
    InputStream stdin = System.in;
    while (stdin.read() >= 0) {}
    app.close(Duration.ofSeconds(30));
  }
}
