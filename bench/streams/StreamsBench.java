// Java Kafka Streams side of bench/streams.ts: one topology, one stream thread, cache disabled
// (statestore.cache.max.bytes=0: one output per update, as kafkats/streams), the guarantee's
// default commit interval. The same topologies are in bench/streams/app.ts.
// args: <bootstrap> <applicationId> <wordcount|windowed> <input> <output> <at_least_once|exactly_once_v2> <state dir>
// Prints RUNNING when it runs (ERROR and the exception on failure); closes when stdin ends.
import java.io.InputStream;
import java.time.Duration;
import java.util.*;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.*;

public class StreamsBench {
  public static void main(String[] args) throws Exception {
    Serde<String> S = Serdes.String();
    Serde<Long> L = Serdes.Long();
    StreamsBuilder b = new StreamsBuilder();
    String input = args[3], output = args[4];
    if (args[2].equals("wordcount")) {
      b.stream(input, Consumed.with(S, S))
          .flatMapValues(v -> Arrays.asList(v.split(" ")))
          .groupBy((k, w) -> w, Grouped.with(S, S))
          .count(Materialized.with(S, L))
          .toStream()
          .to(output, Produced.with(S, L));
    } else {
      b.stream(input, Consumed.with(S, S))
          .groupByKey(Grouped.with(S, S))
          .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(1), Duration.ofSeconds(1)))
          .count(Materialized.with(S, L))
          .toStream()
          .map((wk, v) -> KeyValue.pair(wk.key() + "@" + wk.window().start(), v))
          .to(output, Produced.with(S, L));
    }
    Properties p = new Properties();
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args[5]);
    p.put(StreamsConfig.STATE_DIR_CONFIG, args[6]);
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
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
