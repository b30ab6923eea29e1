// Runs one of a few named topologies in Java Kafka Streams' TopologyTestDriver (cache disabled).
// args: <topology> describe | run. run reads records "topic<TAB>key<TAB>value<TAB>timestamp"
// (key/value "\N" = null) from stdin and prints every output record the same way, per topic in
// the order written. The same topologies are built with kafkats/streams in dsl-vs-java.test.ts.
import java.time.Duration;
import java.util.*;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.kstream.*;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.*;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

public class StreamsProbe {
  static final Serde<String> S = Serdes.String();
  static final Serde<Long> L = Serdes.Long();

  static List<String> outputs = new ArrayList<>();

  static Topology build(String name) {
    StreamsBuilder b = new StreamsBuilder();
    switch (name) {
      case "wordcount": {
        b.stream("in", Consumed.with(S, S))
            .filter((k, v) -> v != null)
            .flatMapValues(v -> Arrays.asList(v.toLowerCase().split("\\W+")))
            .groupBy((k, w) -> w, Grouped.with(S, S))
            .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("counts-store").withKeySerde(S).withValueSerde(L))
            .toStream()
            .to("out", Produced.with(S, L));
        outputs = List.of("out");
        break;
      }
      case "stateless": {
        KStream<String, String> in = b.stream("in", Consumed.with(S, S));
        KStream<String, String> other = b.stream("in2", Consumed.with(S, S));
        Map<String, KStream<String, String>> branches = in.filter((k, v) -> v != null)
            .filterNot((k, v) -> v.startsWith("#"))
            .mapValues(v -> v.toUpperCase())
            .merge(other.filter((k, v) -> v != null))
            .split(Named.as("br-"))
            .branch((k, v) -> v.length() <= 2, Branched.as("short"))
            .branch((k, v) -> v.contains("X"), Branched.as("x"))
            .defaultBranch();
        branches.get("br-short").selectKey((k, v) -> v).to("out-short", Produced.with(S, S));
        branches.get("br-x").flatMap((k, v) -> List.of(KeyValue.pair(k + "1", v), KeyValue.pair(k + "2", v + v)))
            .to("out-x", Produced.with(S, S));
        branches.get("br-0").map((k, v) -> KeyValue.pair(v, k)).to("out-rest", Produced.with(S, S));
        outputs = List.of("out-short", "out-x", "out-rest");
        break;
      }
      case "aggregates": {
        KGroupedStream<String, String> g = b.stream("in", Consumed.with(S, S)).groupByKey(Grouped.with(S, S));
        g.reduce((a, v) -> a + "," + v, Materialized.with(S, S)).toStream().to("out-reduce", Produced.with(S, S));
        g.aggregate(() -> 0L, (k, v, a) -> a + v.length(), Materialized.with(S, L)).toStream().to("out-agg", Produced.with(S, L));
        outputs = List.of("out-reduce", "out-agg");
        break;
      }
      case "table": {
        b.table("tin", Consumed.with(S, S))
            .filter((k, v) -> !v.equals("skip"))
            .mapValues(v -> v + "!")
            .toStream()
            .to("out", Produced.with(S, S));
        outputs = List.of("out");
        break;
      }
      case "repartition": {
        b.stream("in", Consumed.with(S, S))
            .filter((k, v) -> v != null)
            .selectKey((k, v) -> v.substring(0, 1))
            .repartition(Repartitioned.<String, String>as("by-first").withKeySerde(S).withValueSerde(S))
            .groupByKey()
            .count(Materialized.with(S, L))
            .toStream()
            .to("out", Produced.with(S, L));
        outputs = List.of("out");
        break;
      }
      case "tumbling": {
        b.stream("in", Consumed.with(S, S))
            .groupByKey(Grouped.with(S, S))
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(10), Duration.ofMillis(5)))
            .count(Materialized.with(S, L))
            .toStream()
            .map((wk, v) -> KeyValue.pair(wk.key() + "@" + wk.window().start() + "-" + wk.window().end(), v))
            .to("out", Produced.with(S, L));
        outputs = List.of("out");
        break;
      }
      case "hopping": {
        b.stream("in", Consumed.with(S, S))
            .groupByKey(Grouped.with(S, S))
            .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(10)).advanceBy(Duration.ofMillis(4)))
            .aggregate(() -> 0L, (k, v, a) -> a + v.length(), Materialized.with(S, L))
            .toStream()
            .map((wk, v) -> KeyValue.pair(wk.key() + "@" + wk.window().start() + "-" + wk.window().end(), v))
            .to("out", Produced.with(S, L));
        outputs = List.of("out");
        break;
      }
      case "suppress": {
        b.stream("in", Consumed.with(S, S))
            .groupByKey(Grouped.with(S, S))
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(10), Duration.ofMillis(3)))
            .count(Materialized.with(S, L))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
            .toStream()
            .map((wk, v) -> KeyValue.pair(wk.key() + "@" + wk.window().start() + "-" + wk.window().end(), v))
            .to("out", Produced.with(S, L));
        outputs = List.of("out");
        break;
      }
      case "session": {
        b.stream("in", Consumed.with(S, S))
            .groupByKey(Grouped.with(S, S))
            .windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(5), Duration.ofMillis(2)))
            .count(Materialized.with(S, L))
            .toStream()
            .map((wk, v) -> KeyValue.pair(wk.key() + "@" + wk.window().start() + "-" + wk.window().end(), v))
            .to("out", Produced.with(S, L));
        outputs = List.of("out");
        break;
      }
      case "streamtable": {
        KTable<String, String> t = b.table("tin", Consumed.with(S, S));
        KStream<String, String> s = b.stream("in", Consumed.with(S, S));
        s.join(t, (v, tv) -> v + "+" + tv).to("out-join", Produced.with(S, S));
        s.leftJoin(t, (v, tv) -> v + "+" + tv).to("out-left", Produced.with(S, S));
        outputs = List.of("out-join", "out-left");
        break;
      }
      case "tabletable": {
        KTable<String, String> l = b.table("tl", Consumed.with(S, S));
        KTable<String, String> r = b.table("tr", Consumed.with(S, S));
        l.join(r, (a, c) -> a + "+" + c).toStream().to("out-join", Produced.with(S, S));
        l.leftJoin(r, (a, c) -> a + "+" + c).toStream().to("out-left", Produced.with(S, S));
        l.outerJoin(r, (a, c) -> a + "+" + c).toStream().to("out-outer", Produced.with(S, S));
        outputs = List.of("out-join", "out-left", "out-outer");
        break;
      }
      case "streamstream": {
        KStream<String, String> l = b.stream("sl", Consumed.with(S, S));
        KStream<String, String> r = b.stream("sr", Consumed.with(S, S));
        l.join(r, (a, c) -> a + "+" + c, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(5), Duration.ofMillis(2)),
            StreamJoined.with(S, S, S)).to("out-join", Produced.with(S, S));
        outputs = List.of("out-join");
        break;
      }
      case "leftjoin":
      case "leftjoinseeded": {
        KStream<String, String> l = b.stream("sl", Consumed.with(S, S));
        KStream<String, String> r = b.stream("sr", Consumed.with(S, S));
        l.leftJoin(r, (a, c) -> a + "+" + c, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(5), Duration.ofMillis(2)),
            StreamJoined.with(S, S, S)).to("out-left", Produced.with(S, S));
        outputs = List.of("out-left", "probe-KSTREAM-OUTERSHARED-0000000004-store-changelog",
            "probe-KSTREAM-JOINTHIS-0000000004-store-changelog", "probe-KSTREAM-OUTEROTHER-0000000005-store-changelog");
        break;
      }
      case "outerjoin":
      case "outerjoinseeded": {
        KStream<String, String> l = b.stream("sl", Consumed.with(S, S));
        KStream<String, String> r = b.stream("sr", Consumed.with(S, S));
        l.outerJoin(r, (a, c) -> a + "+" + c, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofMillis(3)),
            StreamJoined.with(S, S, S)).to("out-outer", Produced.with(S, S));
        l.outerJoin(r, (a, c) -> a + "*" + c, JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(5), Duration.ofMillis(4)),
            StreamJoined.<String, String, String>with(S, S, S).withName("oj")).to("out-outer-named", Produced.with(S, S));
        outputs = List.of("out-outer", "out-outer-named");
        break;
      }
      case "tablegroupby":
      case "tablegroupbyseeded": {
        KGroupedTable<String, String> g = b.table("tin", Consumed.with(S, S))
            .filter((k, v) -> !v.startsWith("skip"))
            .groupBy((k, v) -> KeyValue.pair(v.substring(0, 1), k + ":" + v), Grouped.with(S, S));
        g.count().toStream().to("out-count", Produced.with(S, L));
        g.reduce((a, v) -> a + "+" + v, (a, v) -> a + "-" + v).toStream().to("out-reduce", Produced.with(S, S));
        g.aggregate(() -> 0L, (k, v, a) -> a + v.length(), (k, v, a) -> a - v.length(), Materialized.with(S, L))
            .toStream().to("out-agg", Produced.with(S, L));
        outputs = List.of("out-count", "out-reduce", "out-agg", "probe-KTABLE-AGGREGATE-STATE-STORE-0000000005-repartition");
        break;
      }
      case "punctuate": {
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("counts"), S, L));
        KStream<String, String> in = b.stream("in", Consumed.with(S, S));
        in.process(() -> new Processor<String, String, String, String>() {
          ProcessorContext<String, String> ctx;
          KeyValueStore<String, Long> store;
          Cancellable wall;

          @Override
          public void init(ProcessorContext<String, String> c) {
            ctx = c;
            store = c.getStateStore("counts");
            c.schedule(Duration.ofMillis(10), PunctuationType.STREAM_TIME, ts -> {
              List<org.apache.kafka.streams.KeyValue<String, Long>> all = new ArrayList<>();
              try (var it = store.all()) { it.forEachRemaining(all::add); }
              for (var kv : all) {
                ctx.forward(new Record<>(kv.key, "st@" + ts + " " + kv.value, ts));
                store.delete(kv.key);
              }
            });
            wall = c.schedule(Duration.ofMillis(100), PunctuationType.WALL_CLOCK_TIME,
                ts -> ctx.forward(new Record<>("wall", "wc@" + ts + " keys=" + store.approximateNumEntries(), ts)));
          }

          @Override
          public void process(Record<String, String> r) {
            if (r.key() == null) return;
            Long n = store.get(r.key());
            store.put(r.key(), n == null ? 1L : n + 1);
            if (r.value().equals("cancel")) wall.cancel();
            ctx.forward(r.withValue("seen " + r.value()));
          }
        }, "counts").to("out", Produced.with(S, S));
        in.processValues(() -> new FixedKeyProcessor<String, String, String>() {
          FixedKeyProcessorContext<String, String> ctx;

          @Override
          public void init(FixedKeyProcessorContext<String, String> c) { ctx = c; }

          @Override
          public void process(FixedKeyRecord<String, String> r) {
            if (r.value() != null) ctx.forward(r.withValue(r.value().toUpperCase()));
          }
        }).to("out-values", Produced.with(S, S));
        outputs = List.of("out", "out-values", "probe-counts-changelog");
        break;
      }
      case "tablegroupbynamed": {
        KGroupedTable<String, String> g = b.table("tin", Consumed.with(S, S))
            .groupBy((k, v) -> KeyValue.pair(v.substring(0, 1), k), Grouped.with("grp", S, S));
        g.count().toStream().to("out-count", Produced.with(S, L));
        g.reduce((a, v) -> a + "+" + v, (a, v) -> a + "-" + v).toStream().to("out-reduce", Produced.with(S, S));
        outputs = List.of("out-count", "out-reduce");
        break;
      }
      default:
        throw new IllegalArgumentException(name);
    }
    return b.build();
  }

  static String show(String s) { return s == null ? "\\N" : s; }

  static String hex(byte[] bytes) {
    StringBuilder out = new StringBuilder();
    for (byte b : bytes) out.append(String.format("%02x", b));
    return out.toString();
  }

  public static void main(String[] args) throws Exception {
    if (args[0].equals("windowed-serde")) {
      // Windowed keys as Kafka's own serializers write them.
      System.out.println(hex(WindowedSerdes.timeWindowedSerdeFrom(String.class, 100).serializer()
          .serialize("t", new Windowed<>("ab", new org.apache.kafka.streams.kstream.internals.TimeWindow(258, 358)))));
      System.out.println(hex(WindowedSerdes.sessionWindowedSerdeFrom(String.class).serializer()
          .serialize("t", new Windowed<>("a", new org.apache.kafka.streams.kstream.internals.SessionWindow(1, 2)))));
      return;
    }
    Topology t = build(args[0]);
    if (args[1].equals("describe")) {
      System.out.print(t.describe());
      return;
    }
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "probe");
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    // Left/outer stream-stream joins scan for closed windows at most once per second of wall-clock
    // time by default (a throttle, not semantics); the driver's clock stands still, so scan always.
    p.put("__emit.interval.ms.kstreams.outer.join.spurious.results.fix__", 0L);
    // The mock system time starts at 0 (wall-clock punctuation times are compared).
    try (TopologyTestDriver d = new TopologyTestDriver(t, p, java.time.Instant.ofEpochMilli(0))) {
      Map<String, TestInputTopic<String, String>> inputs = new HashMap<>();
      Scanner sc = new Scanner(System.in);
      while (sc.hasNextLine()) {
        String line = sc.nextLine();
        if (line.isEmpty()) continue;
        String[] f = line.split("\t", -1);
        if (f[0].equals("@advance")) {
          d.advanceWallClockTime(Duration.ofMillis(Long.parseLong(f[3])));
          continue;
        }
        String k = f[1].equals("\\N") ? null : f[1];
        String v = f[2].equals("\\N") ? null : f[2];
        inputs.computeIfAbsent(f[0], n -> d.createInputTopic(n, S.serializer(), S.serializer()))
            .pipeInput(k, v, Long.parseLong(f[3]));
      }
      for (String o : outputs) {
        if (o.startsWith("probe-")) {
          // An internal topic (changelog, repartition): its bytes, hex.
          TestOutputTopic<byte[], byte[]> raw = d.createOutputTopic(o, new ByteArrayDeserializer(), new ByteArrayDeserializer());
          for (var r : raw.readRecordsToList()) {
            System.out.println(o + "\t" + (r.key() == null ? "\\N" : hex(r.key())) + "\t" + (r.value() == null ? "\\N" : hex(r.value())) + "\t" + r.timestamp());
          }
          continue;
        }
        boolean longs = o.equals("out-agg") || o.equals("out-count") || (o.equals("out") && !args[0].equals("table"));
        if (o.startsWith("out-join") || o.startsWith("out-left") || o.startsWith("out-outer")) longs = false;
        if (args[0].equals("streamstream") || args[0].endsWith("join") || args[0].equals("punctuate")) longs = false;
        Deserializer<?> vd = longs ? L.deserializer() : S.deserializer();
        TestOutputTopic<String, ?> out = d.createOutputTopic(o, S.deserializer(), vd);
        for (var r : out.readRecordsToList()) {
          System.out.println(o + "\t" + show(r.key()) + "\t" + show(r.value() == null ? null : r.value().toString()) + "\t" + r.timestamp());
        }
      }
    }
  }
}
