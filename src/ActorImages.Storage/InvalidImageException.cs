namespace ActorImages.Storage;

/// <summary>
/// The bytes of an upload are not an image the node stores: unknown format, empty, shorter or longer than
/// announced, over the byte or pixel limit, or a header no decoder reads (docs/protocols.md, P1 "Bad input").
/// Nothing is stored when it is thrown.
/// </summary>
/// <remarks>
/// <see cref="Exception.Message"/> is a short English reason such as <c>not an image (unknown format)</c> or
/// <c>image larger than 67108864 bytes</c>: gateways log it with the peer, and P2 shows it to the client as
/// <c>Falha no upload: &lt;reason&gt;</c> (docs/protocols.md, P2).
/// </remarks>
public sealed class InvalidImageException : Exception
{
    /// <summary>An invalid image with a short English reason.</summary>
    /// <param name="reason">shown to clients and logged</param>
    public InvalidImageException(string reason)
        : base(reason)
    {
    }

    /// <summary>An invalid image with a short English reason and the decoder's own failure.</summary>
    /// <param name="reason">shown to clients and logged</param>
    /// <param name="cause">the decoder's exception, kept for the log</param>
    public InvalidImageException(string reason, Exception? cause)
        : base(reason, cause)
    {
    }
}
