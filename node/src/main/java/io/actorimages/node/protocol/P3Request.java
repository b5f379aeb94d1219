package io.actorimages.node.protocol;

import io.actorimages.messages.PeerImage;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A request to the IDP2PI tracker (PROTOCOLS.md P3), parsed from one UDP datagram by {@link #parse(byte[], int)}.
 * Every malformed request is {@link Invalid}, answered with {@link P3Reply#invalid()}.
 *
 * <p>{@link Reg}, {@link Upd} and {@link End} hide the password from {@code toString()}, so logging a request
 * never writes a peer's password in clear (the replicated state keeps only its hash).
 */
public sealed interface P3Request {

  /**
   * {@code REG <password> <port> <images>}: register the identity (source IP, {@code port}) with these images,
   * replacing an earlier registration of the same identity.
   *
   * @param password non-empty, no space; may hold any punctuation (the seed-003 client's do)
   * @param port     the peer's P4 port, 1 to 65535
   * @param images   the items in the order sent, duplicates kept (the tracker decides what they mean)
   */
  record Reg(String password, int port, List<PeerImage> images) implements P3Request {
    /** @throws NullPointerException if {@code password} or {@code images} is null */
    public Reg {
      Objects.requireNonNull(password, "password");
      images = List.copyOf(images);
    }

    @Override
    public String toString() {
      return "Reg[port=" + port + ", images=" + images + "]";
    }
  }

  /**
   * {@code UPD <password> <port> <images>}: replace the identity's images. Same shapes as {@link Reg}.
   *
   * @param password non-empty, no space
   * @param port     1 to 65535
   * @param images   the items in the order sent
   */
  record Upd(String password, int port, List<PeerImage> images) implements P3Request {
    /** @throws NullPointerException if {@code password} or {@code images} is null */
    public Upd {
      Objects.requireNonNull(password, "password");
      images = List.copyOf(images);
    }

    @Override
    public String toString() {
      return "Upd[port=" + port + ", images=" + images + "]";
    }
  }

  /**
   * {@code LST} ({@code offset} 0) or the extension {@code LST <offset>}.
   *
   * @param offset how many listable items to skip, {@code ≥ 0} (see {@link P3Reply#list(List, int)})
   */
  record Lst(int offset) implements P3Request {
    /** @throws IllegalArgumentException if {@code offset} is negative */
    public Lst {
      if (offset < 0) {
        throw new IllegalArgumentException("offset must not be negative: " + offset);
      }
    }
  }

  /**
   * {@code END <password> <port>}: remove the identity and all its holdings.
   *
   * @param password non-empty, no space
   * @param port     1 to 65535
   */
  record End(String password, int port) implements P3Request {
    /** @throws NullPointerException if {@code password} is null */
    public End {
      Objects.requireNonNull(password, "password");
    }

    @Override
    public String toString() {
      return "End[port=" + port + "]";
    }
  }

  /** A malformed request: answer {@code ERR INVALID_MESSAGE_FORMAT}. */
  record Invalid() implements P3Request {}

  /**
   * Parses one datagram. Never throws for any content. The rules (PROTOCOLS.md P3):
   * <ul>
   *   <li>strict UTF-8: a malformed or truncated sequence (e.g. {@code 0xff 0xfe}) is Invalid;
   *   <li>trimmed of leading and trailing Unicode whitespace ({@link String#strip()}, close to Python's
   *       {@code str.strip()}; a {@code \n} typed into {@code nc -u} is harmless), then split on single spaces into at most 4 parts, the 4th keeping its spaces; two
   *       spaces in a row make an empty part, hence Invalid;
   *   <li>commands exactly {@code REG}, {@code UPD}, {@code LST}, {@code END} in uppercase, as every legacy
   *       client sends them; {@code reg} is Invalid (PROTOCOLS.md names the commands in uppercase only, and
   *       accepting more would widen what a stray datagram can do);
   *   <li>exact part counts: REG/UPD 4 (a client with no image sends {@code ''}), END 3, LST 1 or 2;
   *   <li>password: any non-empty text without a space;
   *   <li>port: ASCII digits (leading zeros allowed, no sign), 1 to 65535;
   *   <li>{@code LST <offset>}: ASCII digits, 0 to {@link Integer#MAX_VALUE}; anything else is Invalid;
   *   <li>images: split on {@code ;}; from each item one pair of surrounding {@code '} is stripped (the seed-003
   *       client quotes every item and sends {@code ''} for none); items left empty are skipped; each item is
   *       split on its first {@code ,} (none → Invalid) into an md5 of exactly 32 hex characters (lowercased;
   *       else Invalid) and a name kept as given, possibly empty or holding {@code ,}, {@code '} and spaces.
   * </ul>
   *
   * @param datagram the received buffer
   * @param length   how many bytes of {@code datagram}, from index 0, the datagram holds
   * @return the request, or {@link Invalid}
   * @throws IndexOutOfBoundsException if {@code length} is negative or beyond {@code datagram.length} (a caller
   *     bug, not bad input)
   */
  static P3Request parse(byte[] datagram, int length) {
    Objects.checkFromIndexSize(0, length, datagram.length);
    String text;
    try {
      CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(datagram, 0, length));
      text = chars.toString().strip();
    } catch (CharacterCodingException notUtf8) {
      return new Invalid();
    }
    String[] parts = text.split(" ", 4);
    return switch (parts[0]) {
      case "REG", "UPD" -> registration(parts);
      case "LST" -> list(parts);
      case "END" -> parts.length == 3 ? end(parts) : new Invalid();
      default -> new Invalid();
    };
  }

  private static P3Request registration(String[] parts) {
    int port = parts.length == 4 ? port(parts[2]) : -1;
    List<PeerImage> images = port < 0 || parts[1].isEmpty() ? null : images(parts[3]);
    if (images == null) {
      return new Invalid();
    }
    return parts[0].equals("REG") ? new Reg(parts[1], port, images) : new Upd(parts[1], port, images);
  }

  private static P3Request end(String[] parts) {
    int port = port(parts[2]);
    return port < 0 || parts[1].isEmpty() ? new Invalid() : new End(parts[1], port);
  }

  private static P3Request list(String[] parts) {
    if (parts.length == 1) {
      return new Lst(0);
    }
    long offset = parts.length == 2 ? Ascii.parseDecimal(parts[1], Integer.MAX_VALUE) : -1;
    return offset < 0 ? new Invalid() : new Lst((int) offset);
  }

  /** The port, or -1 unless it is 1 to 65535 in ASCII digits. */
  private static int port(String text) {
    long port = Ascii.parseDecimal(text, 65_535);
    return port < 1 ? -1 : (int) port;
  }

  /** The images of a REG/UPD, or {@code null} if any item is malformed. */
  private static List<PeerImage> images(String list) {
    List<PeerImage> images = new ArrayList<>();
    for (String item : list.split(";", -1)) {
      if (item.length() >= 2 && item.startsWith("'") && item.endsWith("'")) {
        item = item.substring(1, item.length() - 1);
      }
      if (item.isEmpty()) {
        continue; // the seed-003 client's '' for "no image", or ';;' / a trailing ';'
      }
      int comma = item.indexOf(',');
      String md5 = comma < 0 ? null : Ascii.md5OrNull(item.substring(0, comma));
      if (md5 == null) {
        return null;
      }
      images.add(new PeerImage(md5, item.substring(comma + 1)));
    }
    return images;
  }
}
