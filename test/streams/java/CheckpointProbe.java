// Kafka Streams' own checkpoint file (OffsetCheckpoint, the .checkpoint of a task directory):
// `write <file> <topic> <partition> <offset> ...` writes one, `read <file>` prints its entries
// as `topic partition offset` lines, sorted. For test/streams/state-dir.test.ts.

import java.io.File;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.state.internals.OffsetCheckpoint;

public class CheckpointProbe {
  public static void main(String[] args) throws Exception {
    OffsetCheckpoint checkpoint = new OffsetCheckpoint(new File(args[1]));
    if (args[0].equals("write")) {
      Map<TopicPartition, Long> offsets = new HashMap<>();
      for (int i = 2; i + 2 < args.length + 1; i += 3) {
        offsets.put(new TopicPartition(args[i], Integer.parseInt(args[i + 1])), Long.parseLong(args[i + 2]));
      }
      checkpoint.write(offsets);
      return;
    }
    TreeSet<String> lines = new TreeSet<>();
    for (Map.Entry<TopicPartition, Long> e : checkpoint.read().entrySet()) {
      lines.add(e.getKey().topic() + " " + e.getKey().partition() + " " + e.getValue());
    }
    for (String line : lines) System.out.println(line);
  }
}
