package io.actorimages.node.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * A command of the P2 WebSocket repository (PROTOCOLS.md P2), parsed from one text frame
 * {@code {"cmd": "<CMD>", "args": [ … ]}} by {@link #parse(String)}. A malformed command becomes {@link Invalid}
 * carrying the seed's own Portuguese error text, which the gateway sends back with {@link P2Reply#error(String)}
 * while the connection stays open.
 */
public sealed interface P2Request {

  /** Whether the client asked to save the file ({@code DOWNLOAD}) or to show it ({@code VIEW}); same bytes. */
  enum TransferMode {
    /** {@code DOWNLOAD}: the client saves the file under {@code SIZE_INFO.filename}. */
    DOWNLOAD,
    /** {@code VIEW}: the client shows the file in a window. */
    VIEW
  }

  /**
   * {@code AUTH [username]}.
   *
   * @param username the name as given, untrimmed; {@code "anon"} when missing, blank or not a JSON string
   */
  record Auth(String username) implements P2Request {
    /** @throws NullPointerException if {@code username} is null */
    public Auth {
      Objects.requireNonNull(username, "username");
    }
  }

  /** {@code LIST []}; any args are ignored, as the seed did. */
  record ListFiles() implements P2Request {}

  /**
   * {@code UPLOAD [filename, size]}: the client sends one binary frame of {@code size} bytes after READY.
   *
   * @param filename the catalog label as given, not a path: not trimmed, not checked for separators or length
   * @param size     the announced size in bytes, {@code ≥ 0}; the limit ({@code max-image-bytes}) is the
   *                 gateway's to apply
   */
  record Upload(String filename, long size) implements P2Request {
    /** @throws NullPointerException if {@code filename} is null */
    public Upload {
      Objects.requireNonNull(filename, "filename");
    }
  }

  /**
   * {@code DOWNLOAD [filename]} or {@code VIEW [filename]}.
   *
   * @param filename the catalog label as given
   * @param mode     which of the two commands it was; the reply's {@code SIZE_INFO.mode}
   */
  record Download(String filename, TransferMode mode) implements P2Request {
    /** @throws NullPointerException if a field is null */
    public Download {
      Objects.requireNonNull(filename, "filename");
      Objects.requireNonNull(mode, "mode");
    }
  }

  /** {@code DISCONNECT []}; any args are ignored. */
  record Disconnect() implements P2Request {}

  /**
   * A frame that is no valid command.
   *
   * @param message the exact text for {@code {"status":"ERROR","message":…}}, one of the {@code P2Reply} constants
   */
  record Invalid(String message) implements P2Request {
    /** @throws NullPointerException if {@code message} is null */
    public Invalid {
      Objects.requireNonNull(message, "message");
    }
  }

  /**
   * Parses one text frame. Never throws. The rules (PROTOCOLS.md P2 and its error table):
   * <ul>
   *   <li>not JSON (also: empty or blank, trailing garbage after the value, a Java {@code null}, and JSON past
   *       Jackson's default read limits: nesting deeper than 1,000, a number of over 1,000 digits, a string of
   *       over 20 million characters) → {@link P2Reply#NOT_JSON};
   *   <li>JSON that is not an object ({@code null}, an array, a string, a number), an object whose {@code cmd} is
   *       missing or not a string, or a {@code cmd} other than AUTH, LIST, UPLOAD, DOWNLOAD, VIEW, DISCONNECT in
   *       any ASCII case (non-ASCII look-alikes such as {@code LIſT} included) → {@link P2Reply#UNKNOWN_COMMAND}:
   *       the seed crashed on such frames, and valid JSON is no format error, so the closest seed text is the one
   *       for a command it does not know;
   *   <li>{@code args} missing or {@code null} → an empty list; {@code args} of another type than an array → the
   *       command's format error (no args list can have the expected length);
   *   <li>UPLOAD: exactly 2 args with a string filename, else {@link P2Reply#UPLOAD_FORMAT}; size a string of ASCII
   *       digits (what the legacy client sends) or an integral JSON number, {@code 0 ≤ size ≤ Long.MAX_VALUE},
   *       else {@link P2Reply#INVALID_SIZE} ({@code "12.5"}, {@code 12.0}, {@code 1e3}, {@code "-1"},
   *       {@code " 12"}, {@code true} are all invalid);
   *   <li>DOWNLOAD/VIEW: exactly 1 arg, a string, else {@link P2Reply#FILENAME_FORMAT}.
   * </ul>
   *
   * @param textFrame the text frame's content; may be {@code null}
   * @return the command, or {@link Invalid} with its error text
   */
  static P2Request parse(String textFrame) {
    if (textFrame == null) {
      return new Invalid(P2Reply.NOT_JSON);
    }
    JsonNode root;
    try {
      root = P2Json.MAPPER.readTree(textFrame);
    } catch (JsonProcessingException notJson) {
      return new Invalid(P2Reply.NOT_JSON);
    }
    if (root == null || root.isMissingNode()) {
      return new Invalid(P2Reply.NOT_JSON); // empty or all-whitespace frame: json.loads("") fails too
    }
    JsonNode cmd = root.path("cmd");
    if (!root.isObject() || !cmd.isTextual()) {
      return new Invalid(P2Reply.UNKNOWN_COMMAND);
    }
    JsonNode args = root.path("args");
    return switch (Ascii.toUpperCase(cmd.textValue())) {
      case "AUTH" -> new Auth(username(args));
      case "LIST" -> new ListFiles();
      case "UPLOAD" -> upload(args);
      case "DOWNLOAD" -> download(args, TransferMode.DOWNLOAD);
      case "VIEW" -> download(args, TransferMode.VIEW);
      case "DISCONNECT" -> new Disconnect();
      default -> new Invalid(P2Reply.UNKNOWN_COMMAND);
    };
  }

  private static String username(JsonNode args) {
    JsonNode name = args.path(0);
    return name.isTextual() && !name.textValue().isBlank() ? name.textValue() : "anon";
  }

  private static P2Request upload(JsonNode args) {
    if (argCount(args) != 2 || !args.get(0).isTextual()) {
      return new Invalid(P2Reply.UPLOAD_FORMAT);
    }
    long size = size(args.get(1));
    return size < 0 ? new Invalid(P2Reply.INVALID_SIZE) : new Upload(args.get(0).textValue(), size);
  }

  /** The announced size, or -1 if it is no non-negative integer that fits a long. */
  private static long size(JsonNode size) {
    if (size.isTextual()) {
      // The legacy client sends str(os.path.getsize(...)): ASCII digits only.
      return Ascii.parseDecimal(size.textValue(), Long.MAX_VALUE);
    }
    if (size.isIntegralNumber() && size.canConvertToLong()) {
      return Math.max(size.longValue(), -1);
    }
    return -1;
  }

  private static P2Request download(JsonNode args, TransferMode mode) {
    if (argCount(args) != 1 || !args.get(0).isTextual()) {
      return new Invalid(P2Reply.FILENAME_FORMAT);
    }
    return new Download(args.get(0).textValue(), mode);
  }

  /** The number of args; a missing or null {@code args} counts as empty, any other non-array as unusable (-1). */
  private static int argCount(JsonNode args) {
    if (args.isMissingNode() || args.isNull()) {
      return 0;
    }
    return args.isArray() ? args.size() : -1;
  }
}
