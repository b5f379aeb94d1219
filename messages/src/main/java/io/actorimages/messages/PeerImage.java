package io.actorimages.messages;

/**
 * One image a legacy peer registered with the tracker (PROTOCOLS.md P3, an item of {@code REG}/{@code UPD}).
 *
 * @param md5  32 lowercase hex characters
 * @param name the file name the peer gave; may be empty
 */
public record PeerImage(String md5, String name) implements CborSerializable {}
