package io.actorimages.node;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Every {@code actorimages.*} setting, read once at start (STYLE.md); code below this record never touches
 * {@link Config} paths. Defaults and their meaning live in the node module's {@code reference.conf}.
 *
 * @param host               address every listener binds and that the node advertises
 * @param dataDir            the node's data directory
 * @param maxImageBytes      largest accepted image, bytes
 * @param replicationFactor  copies of each image
 * @param p1Port             P1 TCP ingest port
 * @param p1IdleTimeout      P1 idle timeout
 * @param p2Port             P2 WebSocket port
 * @param p2HistorySize      NEW_UPLOAD events replayed after AUTH
 * @param p3Port             P3 UDP tracker port
 * @param p4Port             P4 peer GET port, the same on every node
 * @param p4RequestTimeout   time allowed for the whole {@code GET <md5>} request
 * @param httpPort           HTTP API port
 * @param defaultPageSize    default page of {@code GET /api/images}
 * @param maxPageSize        largest page of {@code GET /api/images}
 * @param catalogWriteTimeout majority-write timeout of the catalog
 * @param catalogReadTimeout  majority-read timeout of the catalog
 * @param askTimeout         how long a gateway waits for an actor's answer
 * @param replicationTimeout how long copying one image to one other node may take, plus one second per
 *                           {@code replicationMinThroughput} bytes
 * @param replicationMinThroughput bytes per second a copy must at least achieve
 * @param repairInterval     time between two self-repair passes (one also runs when a member is removed)
 * @param scrubPace          time between two images checked by the background scrub
 */
public record NodeSettings(
    String host,
    Path dataDir,
    long maxImageBytes,
    int replicationFactor,
    int p1Port,
    Duration p1IdleTimeout,
    int p2Port,
    int p2HistorySize,
    int p3Port,
    int p4Port,
    Duration p4RequestTimeout,
    int httpPort,
    int defaultPageSize,
    int maxPageSize,
    Duration catalogWriteTimeout,
    Duration catalogReadTimeout,
    Duration askTimeout,
    Duration replicationTimeout,
    long replicationMinThroughput,
    Duration repairInterval,
    Duration scrubPace) {

  /**
   * Reads the settings from the {@code actorimages} section of {@code config}.
   *
   * @throws com.typesafe.config.ConfigException when a key is missing or has the wrong type
   * @throws IllegalArgumentException when a value is out of range (ports, sizes, factor)
   */
  public static NodeSettings from(Config config) {
    Config c = config.getConfig("actorimages");
    NodeSettings s = new NodeSettings(
        c.getString("host"),
        Path.of(c.getString("data-dir")).toAbsolutePath().normalize(),
        c.getBytes("max-image-bytes"),
        c.getInt("replication-factor"),
        c.getInt("p1.port"),
        c.getDuration("p1.idle-timeout"),
        c.getInt("p2.port"),
        c.getInt("p2.history-size"),
        c.getInt("p3.port"),
        c.getInt("p4.port"),
        c.getDuration("p4.request-timeout"),
        c.getInt("http.port"),
        c.getInt("http.default-page-size"),
        c.getInt("http.max-page-size"),
        c.getDuration("catalog.write-timeout"),
        c.getDuration("catalog.read-timeout"),
        c.getDuration("ask-timeout"),
        c.getDuration("replication-timeout"),
        c.getBytes("replication-min-throughput"),
        c.getDuration("repair-interval"),
        c.getDuration("scrub.pace"));
    s.validate();
    return s;
  }

  private void validate() {
    for (int port : new int[] {p1Port, p2Port, p3Port, p4Port, httpPort}) {
      if (port < 1 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
    }
    if (maxImageBytes < 1 || maxImageBytes > 0xFFFF_FFFFL) {
      // P1 lengths are 4-byte unsigned (PROTOCOLS.md P1), so nothing larger can ever arrive.
      throw new IllegalArgumentException("max-image-bytes must be 1 .. 4294967295, was " + maxImageBytes);
    }
    if (replicationFactor < 1) throw new IllegalArgumentException("replication-factor must be >= 1");
    if (defaultPageSize < 1 || maxPageSize < defaultPageSize) {
      throw new IllegalArgumentException("need 1 <= http.default-page-size <= http.max-page-size");
    }
  }

  /**
   * How long a gateway waits for {@code Registry.Ingest}: copying to the replicas, the local commit and the
   * majority write of the catalog entry, one after the other.
   */
  public Duration ingestTimeout() {
    return replicationTimeout(maxImageBytes).plus(askTimeout).plus(catalogWriteTimeout);
  }

  /** How long copying {@code bytes} to one other node may take. */
  public Duration replicationTimeout(long bytes) {
    return replicationTimeout.plusSeconds(bytes / Math.max(1, replicationMinThroughput));
  }

  /** The P4 endpoint {@code host:port} that LST lists for this node (PROTOCOLS.md P3, P4). */
  public String p4Endpoint() {
    return host + ":" + p4Port;
  }
}
