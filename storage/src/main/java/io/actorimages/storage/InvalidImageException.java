package io.actorimages.storage;

/**
 * The bytes of an upload are not an image the node stores: unknown format, truncated, empty, unreadable header or
 * over the size limit (PROTOCOLS.md P1 "Bad input"). Nothing is stored when it is thrown.
 *
 * <p>{@link #getMessage()} is a short English reason such as {@code not an image (unknown format)} or
 * {@code image larger than 67108864 bytes}; gateways log it with the peer and P2 shows it after
 * {@code Falha no upload: }.
 */
public final class InvalidImageException extends Exception {

  /** @param reason short English reason, shown to clients and logged */
  public InvalidImageException(String reason) {
    super(reason);
  }

  /**
   * @param reason short English reason, shown to clients and logged
   * @param cause  the parser's own exception, kept for the log
   */
  public InvalidImageException(String reason, Throwable cause) {
    super(reason, cause);
  }
}
