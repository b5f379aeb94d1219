package io.actorimages.node.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Objects;

/**
 * Renders the replies and events of the P2 WebSocket repository (PROTOCOLS.md P2), each the content of one text
 * frame: compact JSON (no spaces), keys in the order of the PROTOCOLS.md table, the seed's Portuguese texts as raw
 * UTF-8. Every event object carries an {@code "event"} key and no reply does, because the legacy client takes any
 * object without {@code "event"} for the reply it awaits. Strings are escaped by Jackson, so a filename holding
 * {@code "} or {@code \} still yields valid JSON.
 */
public final class P2Reply {

  /** Error text: a text frame that is not JSON (PROTOCOLS.md P2 errors). */
  public static final String NOT_JSON = "Formato inválido (não é JSON).";
  /** Error text: an unknown {@code cmd}. */
  public static final String UNKNOWN_COMMAND = "Comando desconhecido.";
  /** Error text: {@code UPLOAD} without exactly 2 args (or a filename that is not a string). */
  public static final String UPLOAD_FORMAT = "Formato UPLOAD incorreto (esperado: [filename, size]).";
  /** Error text: an {@code UPLOAD} size that is not a non-negative integer. */
  public static final String INVALID_SIZE = "Tamanho do arquivo invalido.";
  /** Error text: {@code DOWNLOAD}/{@code VIEW} without exactly 1 arg (or a filename that is not a string). */
  public static final String FILENAME_FORMAT = "Formato invalido (esperado: [filename]).";
  /** Error text: {@code DOWNLOAD}/{@code VIEW} of a filename the catalog does not hold. */
  public static final String FILE_NOT_FOUND = "Arquivo nao encontrado.";
  /**
   * Error text: the catalog holds the file but no reachable node could serve its bytes (or the catalog did not
   * answer in time). Not in the seed, whose single server could not lose its disk; worded in its language.
   */
  public static final String FILE_UNAVAILABLE = "Arquivo indisponivel no momento.";

  /**
   * One row of the {@code LIST} reply.
   *
   * @param filename the catalog label
   * @param uploader the P2 user name, {@code tcp:<peer-ip>} for P1, {@code http:<peer-ip>} for HTTP
   */
  public record ListedFile(String filename, String uploader) {
    /** @throws NullPointerException if a field is null */
    public ListedFile {
      Objects.requireNonNull(filename, "filename");
      Objects.requireNonNull(uploader, "uploader");
    }
  }

  private P2Reply() {}

  /** {@code {"status":"SUCCESS","message":"Autenticado como <username>"}}, the reply to {@code AUTH}. */
  public static String authenticated(String username) {
    return status("SUCCESS").put("message", "Autenticado como " + username).toJson();
  }

  /**
   * {@code {"event":"HISTORY","data":[{"event":"NEW_UPLOAD","message":…}, …]}}, sent after the {@code AUTH} reply.
   * Which uploads (the last 5, oldest first) and whether to send an empty history at all are the caller's choice;
   * an empty list renders {@code "data":[]}.
   *
   * @param newUploadMessages texts from {@link #newUploadMessage(String, String)}, in the order to show
   */
  public static String history(List<String> newUploadMessages) {
    Reply reply = event("HISTORY");
    ArrayNode data = reply.node.putArray("data");
    newUploadMessages.forEach(message -> data.add(newUploadEvent(message)));
    return reply.toJson();
  }

  /**
   * {@code {"status":"SUCCESS","cmd":"LIST","data":[{"filename":"…","uploader":"…"}, …]}}.
   *
   * @param files the catalog in upload order (PROTOCOLS.md P2), the caller's to sort
   */
  public static String list(List<ListedFile> files) {
    Reply reply = status("SUCCESS").put("cmd", "LIST");
    ArrayNode data = reply.node.putArray("data");
    files.forEach(file -> data.addObject().put("filename", file.filename()).put("uploader", file.uploader()));
    return reply.toJson();
  }

  /** {@code {"status":"READY","cmd":"UPLOAD_DATA"}}: the client may now send the file's binary frame. */
  public static String ready() {
    return status("READY").put("cmd", "UPLOAD_DATA").toJson();
  }

  /** {@code {"status":"SUCCESS","message":"Upload de <filename> concluído. ID: <id>"}}. */
  public static String uploaded(String filename, String id) {
    return status("SUCCESS").put("message", "Upload de " + filename + " concluído. ID: " + id).toJson();
  }

  /**
   * The text of a {@code NEW_UPLOAD} event, {@code Novo arquivo '<filename>' enviado por <username>.}, for the
   * history a gateway keeps and for {@link #history(List)}.
   */
  public static String newUploadMessage(String filename, String username) {
    return "Novo arquivo '" + filename + "' enviado por " + username + ".";
  }

  /**
   * {@code {"event":"NEW_UPLOAD","message":"Novo arquivo '<filename>' enviado por <username>."}}, pushed to every
   * connected client on every node after an upload.
   */
  public static String newUpload(String filename, String username) {
    return new Reply(newUploadEvent(newUploadMessage(filename, username))).toJson();
  }

  /**
   * {@code {"status":"SIZE_INFO","size":<n>,"filename":"<filename>","mode":"DOWNLOAD"|"VIEW"}}. Send it only when
   * the {@code size} bytes are in hand or certain to follow: the legacy client then waits for exactly one binary
   * frame.
   *
   * @param size the file's size in bytes, rendered as a JSON number
   */
  public static String sizeInfo(long size, String filename, P2Request.TransferMode mode) {
    return status("SIZE_INFO").put("size", size).put("filename", filename).put("mode", mode.name()).toJson();
  }

  /** {@code {"status":"SUCCESS","message":"Transferência de <filename> concluída."}}, after the binary frame. */
  public static String transferred(String filename) {
    return status("SUCCESS").put("message", "Transferência de " + filename + " concluída.").toJson();
  }

  /** {@code {"status":"BYE","message":"Cliente <username> se desconectando..."}}, before the server closes. */
  public static String bye(String username) {
    return status("BYE").put("message", "Cliente " + username + " se desconectando...").toJson();
  }

  /** {@code {"status":"ERROR","message":"<message>"}}; the connection stays open. */
  public static String error(String message) {
    return status("ERROR").put("message", message).toJson();
  }

  /**
   * {@code {"status":"ERROR","message":"Falha no upload: <reason>"}}: the binary frame did not match the announced
   * size or is no image; nothing was stored.
   *
   * @param reason a short English reason, e.g. {@code InvalidImageException.getMessage()}
   */
  public static String uploadFailed(String reason) {
    return error("Falha no upload: " + reason);
  }

  private static Reply status(String status) {
    return new Reply(P2Json.MAPPER.createObjectNode()).put("status", status);
  }

  private static Reply event(String event) {
    return new Reply(P2Json.MAPPER.createObjectNode()).put("event", event);
  }

  private static ObjectNode newUploadEvent(String message) {
    return event("NEW_UPLOAD").put("message", message).node;
  }

  /** A reply under construction; Jackson's object node keeps fields in insertion order. */
  private record Reply(ObjectNode node) {
    Reply put(String key, String value) {
      node.put(key, value);
      return this;
    }

    Reply put(String key, long value) {
      node.put(key, value);
      return this;
    }

    String toJson() {
      try {
        return P2Json.MAPPER.writeValueAsString(node);
      } catch (JsonProcessingException impossible) {
        // A tree of strings and numbers always serializes; reaching this is a bug, not bad input.
        throw new IllegalStateException("cannot render P2 reply", impossible);
      }
    }
  }
}
