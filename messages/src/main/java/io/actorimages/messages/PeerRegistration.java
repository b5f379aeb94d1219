package io.actorimages.messages;

import java.util.List;

/**
 * A legacy peer's registration with the tracker, as replicated in Distributed Data. The password is kept only
 * as a salted SHA-256 hash, so the replicated state and the HTTP API never hold it in clear.
 *
 * @param ip             the source IP of the peer's datagrams (PROTOCOLS.md P3 "client identity")
 * @param port           the P4 port the peer serves {@code GET} on
 * @param passwordSalt   random salt, hex
 * @param passwordHash   hex SHA-256 of salt bytes followed by the UTF-8 password
 * @param images         the peer's holdings, in the order registered
 * @param registeredAt   time of the {@code REG} that created this registration, epoch milliseconds
 * @param sequence       tracker-wide order of registrations, so "the name registered first" is well defined
 */
public record PeerRegistration(
    String ip,
    int port,
    String passwordSalt,
    String passwordHash,
    List<PeerImage> images,
    long registeredAt,
    long sequence)
    implements CborSerializable {

  public PeerRegistration {
    images = List.copyOf(images);
  }

  /** The identity key {@code ip:port} under which this registration is stored. */
  public String identity() {
    return identity(ip, port);
  }

  /** The identity key for a peer at {@code ip} serving on {@code port}. */
  public static String identity(String ip, int port) {
    return ip + ":" + port;
  }

  /** This registration with its holdings replaced (P3 {@code UPD}). */
  public PeerRegistration withImages(List<PeerImage> newImages) {
    return new PeerRegistration(ip, port, passwordSalt, passwordHash, newImages, registeredAt, sequence);
  }
}
