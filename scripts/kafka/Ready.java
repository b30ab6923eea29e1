// Readiness probe used by scripts/kafka.sh: waits until every listener described by the given
// client property files answers Metadata (DescribeCluster) with the expected number of unfenced
// brokers. It uses Kafka's own Admin client, so it needs nothing besides the broker classpath.
//
// Usage: java -cp <dir-with-Ready.class>:<kafka-libs>/* Ready <timeoutMs> <expectedBrokers> <client.properties>...

import java.io.FileInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Node;

public final class Ready {
  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: Ready <timeoutMs> <expectedBrokers> <client.properties>...");
      System.exit(2);
    }
    long deadline = System.currentTimeMillis() + Long.parseLong(args[0]);
    int expected = Integer.parseInt(args[1]);
    // All listeners in parallel: TLS and SCRAM handshakes are slow on a busy 2-core machine.
    List<CompletableFuture<Boolean>> checks = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      String file = args[i];
      checks.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return waitFor(file, expected, deadline);
                } catch (Exception e) {
                  System.err.println("not ready: " + file + ": " + e);
                  return false;
                }
              },
              Executors.newSingleThreadExecutor()));
    }
    boolean ok = true;
    for (CompletableFuture<Boolean> check : checks) {
      ok &= check.join();
    }
    System.exit(ok ? 0 : 1);
  }

  private static boolean waitFor(String file, int expected, long deadline) throws Exception {
    Properties props = new Properties();
    try (InputStream in = new FileInputStream(file)) {
      props.load(in);
    }
    // Short timeouts: we retry ourselves until the deadline, and a stuck attempt must not eat it.
    props.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    props.putIfAbsent(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
    String last = "no answer";
    try (Admin admin = Admin.create(props)) {
      while (System.currentTimeMillis() < deadline) {
        try {
          Collection<Node> nodes =
              admin
                  .describeCluster(new DescribeClusterOptions().timeoutMs(5000))
                  .nodes()
                  .get(6, TimeUnit.SECONDS);
          if (nodes.size() >= expected) {
            System.out.println("ready: " + file + " -> " + nodes.size() + " broker(s)");
            return true;
          }
          last = nodes.size() + " of " + expected + " brokers registered";
        } catch (Exception e) {
          Throwable cause = e.getCause() != null ? e.getCause() : e;
          last = cause.getClass().getSimpleName() + ": " + cause.getMessage();
        }
        Thread.sleep(250);
      }
    }
    System.err.println("not ready: " + file + ": " + last);
    return false;
  }
}
