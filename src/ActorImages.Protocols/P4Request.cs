using System.Buffers;
using System.Text;

namespace ActorImages.Protocols;

/// <summary>
/// The request of a P4 peer transfer (docs/protocols.md, P4): the ASCII text <c>GET &lt;md5&gt;</c>, no
/// terminator, possibly split over several TCP segments. The server parses what arrived after each segment until
/// the result is no longer <see cref="NeedMore"/> (the short timeout while it waits is the caller's); the reply is
/// the raw file bytes, then close, or a close without data for an unknown md5.
/// </summary>
public abstract record P4Request
{
    /// <summary>Bytes in a whole request: <c>"GET "</c> and 32 hex characters, 36.</summary>
    public const int RequestBytes = 4 + Ascii.Md5HexLength;

    private P4Request() { }

    /// <summary>What arrived so far is a proper prefix of a valid request (or nothing): keep reading.</summary>
    public sealed record NeedMore : P4Request;

    /// <summary>A whole request, in the first <see cref="RequestBytes"/> bytes.</summary>
    /// <param name="Md5">32 lowercase hex characters, whatever case the client sent.</param>
    public sealed record Get(string Md5) : P4Request;

    /// <summary>What arrived can no longer become a request: close without data, as for an unknown md5.</summary>
    public sealed record Invalid : P4Request;

    /// <summary>
    /// Classifies the bytes received so far. <c>GET</c> must be uppercase followed by one space, as the seeds'
    /// clients send it; the md5 may be in either case. Bytes after the 36th (a <c>\r\n</c> from a hand-typed
    /// request) are ignored, since a legacy client sends nothing after the md5 and waits for EOF. Never throws.
    /// </summary>
    /// <param name="received">Every byte of the connection so far, from the first.</param>
    /// <returns><see cref="Get"/> once 36 valid bytes are in; <see cref="NeedMore"/> while fewer are in and all
    /// are valid; else <see cref="Invalid"/>, as soon as one byte rules the request out.</returns>
    public static P4Request Parse(ReadOnlySequence<byte> received)
    {
        Span<byte> head = stackalloc byte[RequestBytes];
        int available = (int)Math.Min(received.Length, RequestBytes);
        received.Slice(0, available).CopyTo(head);
        for (int i = 0; i < available; i++)
        {
            byte b = head[i];
            bool valid = i < 4 ? b == "GET "u8[i] : Ascii.IsHexDigit(b);
            if (!valid)
            {
                return new Invalid();
            }
        }
        if (available < RequestBytes)
        {
            return new NeedMore();
        }
        return new Get(Ascii.ToLower(Encoding.ASCII.GetString(head[4..])));
    }

    /// <summary>Parses a request held in one span; see <see cref="Parse(ReadOnlySequence{byte})"/>.</summary>
    /// <param name="received">Every byte of the connection so far, from the first.</param>
    public static P4Request Parse(ReadOnlySpan<byte> received) => Parse(new ReadOnlySequence<byte>(received.ToArray()));

    /// <summary>The request a client sends: <c>GET &lt;md5&gt;</c>, ASCII, no terminator.</summary>
    /// <param name="md5">32 hex characters.</param>
    /// <returns>A fresh 36-byte array.</returns>
    /// <exception cref="ArgumentException">If <paramref name="md5"/> is not 32 hex characters.</exception>
    public static byte[] Render(string md5)
    {
        string lower = Ascii.Md5OrNull(md5) ?? throw new ArgumentException($"not an md5: '{md5}'", nameof(md5));
        return Encoding.ASCII.GetBytes("GET " + lower);
    }

    /// <summary>Whether <paramref name="text"/> is an md5 as P3 and P4 write it: 32 hex characters, either case.</summary>
    /// <param name="text">The text to check.</param>
    public static bool IsMd5(string text) => Ascii.Md5OrNull(text) is not null;
}
