// Prints, one line per argument "type:value", the hex of what Kafka's own serializer writes.
import org.apache.kafka.common.serialization.*;

public class SerdeProbe {
  public static void main(String[] args) {
    for (String arg : args) {
      int colon = arg.indexOf(':');
      String type = arg.substring(0, colon);
      String value = arg.substring(colon + 1);
      byte[] bytes;
      switch (type) {
        case "long": bytes = new LongSerializer().serialize("t", Long.parseLong(value)); break;
        case "int": bytes = new IntegerSerializer().serialize("t", Integer.parseInt(value)); break;
        case "double": bytes = new DoubleSerializer().serialize("t", Double.parseDouble(value)); break;
        case "string": bytes = new StringSerializer().serialize("t", value); break;
        default: throw new IllegalArgumentException(type);
      }
      StringBuilder hex = new StringBuilder();
      for (byte b : bytes) hex.append(String.format("%02x", b));
      System.out.println(hex);
    }
  }
}
