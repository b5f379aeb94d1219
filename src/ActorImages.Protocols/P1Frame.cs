using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace ActorImages.Protocols;

/// <summary>
/// The P1 image-ingest frame (docs/protocols.md, P1): a 4-byte unsigned big-endian length <c>N</c>, then exactly
/// <c>N</c> bytes of one image file; frames back to back until the client closes. The server never writes to the
/// socket. Pure functions over <see cref="ReadOnlySequence{T}"/>, in the System.IO.Pipelines style: the caller
/// reads a header, checks it, then streams <c>N</c> body bytes to storage without holding them whole.
/// </summary>
public static class P1Frame
{
    /// <summary>Bytes in a frame header: 4.</summary>
    public const int HeaderBytes = 4;

    /// <summary>Default of <c>max-image-bytes</c>: 64 MiB, in bytes (docs/protocols.md, P1).</summary>
    public const long DefaultMaxImageBytes = 64L * 1024 * 1024;

    /// <summary>
    /// Reads one frame header from the start of <paramref name="buffer"/>. A header split over several segments
    /// (even 1-byte ones) is read like a flat one.
    /// </summary>
    /// <param name="buffer">The bytes received and not yet consumed. On success it is advanced past the 4 header
    /// bytes (it then starts at the frame body); otherwise it is left unchanged.</param>
    /// <param name="length">The announced body length in bytes, 0 to 4,294,967,295 (unsigned: a header with the
    /// high bit set is a large length, never a negative one). Check it with <see cref="IsAcceptableLength"/>
    /// before waiting for or allocating anything sized by it.</param>
    /// <returns>True if the 4 header bytes were there; false if fewer arrived (read more and try again).</returns>
    public static bool TryReadHeader(ref ReadOnlySequence<byte> buffer, out uint length)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadBigEndian(out int signed))
        {
            length = 0;
            return false;
        }
        length = unchecked((uint)signed);
        buffer = buffer.Slice(HeaderBytes);
        return true;
    }

    /// <summary>
    /// Whether a header's length may be received: 0 and anything above <paramref name="maxImageBytes"/> are
    /// refused, and the connection must then be closed at once without allocating <paramref name="length"/>
    /// bytes (docs/protocols.md, P1 "Bad input").
    /// </summary>
    /// <param name="length">The length the header announced, in bytes.</param>
    /// <param name="maxImageBytes">The largest accepted body in bytes (<c>max-image-bytes</c>, default
    /// <see cref="DefaultMaxImageBytes"/>).</param>
    /// <param name="reason">Null when accepted; else one English line for the log naming the length and limit.</param>
    /// <returns>True if 1 ≤ <paramref name="length"/> ≤ <paramref name="maxImageBytes"/>.</returns>
    public static bool IsAcceptableLength(uint length, long maxImageBytes, [NotNullWhen(false)] out string? reason)
    {
        if (length == 0)
        {
            reason = "P1 frame announces length 0";
            return false;
        }
        if (length > maxImageBytes)
        {
            reason = $"P1 frame announces length {length} bytes, above max-image-bytes {maxImageBytes}";
            return false;
        }
        reason = null;
        return true;
    }

    /// <summary>Writes the header of a frame of <paramref name="length"/> body bytes (client side).</summary>
    /// <param name="destination">At least <see cref="HeaderBytes"/> bytes; the first 4 are written.</param>
    /// <param name="length">The body length in bytes.</param>
    /// <exception cref="ArgumentException">If <paramref name="destination"/> is shorter than 4 bytes.</exception>
    public static void WriteHeader(Span<byte> destination, uint length)
    {
        if (destination.Length < HeaderBytes)
        {
            throw new ArgumentException("a P1 header needs 4 bytes", nameof(destination));
        }
        BinaryPrimitives.WriteUInt32BigEndian(destination, length);
    }

    /// <summary>The 4 header bytes of a frame of <paramref name="length"/> body bytes (client side).</summary>
    /// <param name="length">The body length in bytes.</param>
    /// <returns>A fresh 4-byte array.</returns>
    public static byte[] Header(uint length)
    {
        var header = new byte[HeaderBytes];
        WriteHeader(header, length);
        return header;
    }
}
