namespace ActorImages.Storage;

/// <summary>
/// The image formats a node accepts, recognised by their magic numbers (docs/protocols.md, P1 "bytes that are not
/// an image": JPEG, PNG, GIF, BMP, WebP, TIFF). The format decides the stored file's extension, which therefore is
/// not always <c>.jpg</c> as in the seed. <see cref="ImageFormats"/> holds the extension, media type and sniffing.
/// </summary>
public enum ImageFormat
{
    /// <summary>JPEG (JFIF, Exif, progressive, CMYK alike); extension <c>jpg</c>, <c>image/jpeg</c>.</summary>
    Jpeg,

    /// <summary>PNG (8- and 16-bit); extension <c>png</c>, <c>image/png</c>.</summary>
    Png,

    /// <summary>GIF 87a or 89a, animated or not; extension <c>gif</c>, <c>image/gif</c>.</summary>
    Gif,

    /// <summary>Windows bitmap; extension <c>bmp</c>, <c>image/bmp</c>.</summary>
    Bmp,

    /// <summary>WebP in its RIFF container; extension <c>webp</c>, <c>image/webp</c>.</summary>
    WebP,

    /// <summary>TIFF, either byte order; extension <c>tif</c>, <c>image/tiff</c>.</summary>
    Tiff,
}

/// <summary>The extension, media type and magic-number sniffing of each <see cref="ImageFormat"/>.</summary>
public static class ImageFormats
{
    /// <summary>Bytes that <see cref="Sniff"/> needs to tell every format apart: WebP's <c>WEBP</c> tag ends at
    /// offset 12.</summary>
    public const int SniffBytes = 12;

    /// <summary>The stored file's extension without the dot: <c>jpg</c>, <c>png</c>, <c>gif</c>, <c>bmp</c>,
    /// <c>webp</c> or <c>tif</c>.</summary>
    /// <param name="format">the format</param>
    /// <exception cref="ArgumentOutOfRangeException">for a value outside the enum</exception>
    public static string Extension(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "jpg",
        ImageFormat.Png => "png",
        ImageFormat.Gif => "gif",
        ImageFormat.Bmp => "bmp",
        ImageFormat.WebP => "webp",
        ImageFormat.Tiff => "tif",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not an image format"),
    };

    /// <summary>The IANA media type, e.g. <c>image/jpeg</c>, as served over HTTP and kept in the catalog.</summary>
    /// <param name="format">the format</param>
    /// <exception cref="ArgumentOutOfRangeException">for a value outside the enum</exception>
    public static string MediaType(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "image/jpeg",
        ImageFormat.Png => "image/png",
        ImageFormat.Gif => "image/gif",
        ImageFormat.Bmp => "image/bmp",
        ImageFormat.WebP => "image/webp",
        ImageFormat.Tiff => "image/tiff",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not an image format"),
    };

    /// <summary>The format's lowercase name in reasons shown to clients: <c>jpeg</c>, <c>png</c>, ... <c>tiff</c>.</summary>
    internal static string Name(this ImageFormat format) => format.ToString().ToLowerInvariant();

    /// <summary>
    /// Recognises a format from the first bytes of a file. Only a first guess, so junk is refused before it fills a
    /// temp file: whether the bytes are an image is decided by <see cref="ImageProbe"/> reading the header.
    /// </summary>
    /// <param name="head">the file's first bytes; <see cref="SniffBytes"/> (12) suffice for every format, fewer can
    /// only match the formats whose magic number fits in them</param>
    /// <returns>the format whose magic number starts <paramref name="head"/>, or null when none does</returns>
    public static ImageFormat? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return ImageFormat.Jpeg;
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ImageFormat.Png;
        }
        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return ImageFormat.Gif;
        }
        if (head.StartsWith("BM"u8))
        {
            return ImageFormat.Bmp;
        }
        // RIFF is a container for WAV and AVI too: only the form type at offset 8 says WebP.
        if (head.StartsWith("RIFF"u8) && head.Length >= 12 && head[8..12].SequenceEqual("WEBP"u8))
        {
            return ImageFormat.WebP;
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[(byte)'I', (byte)'I', (byte)'*', 0])
            || head.StartsWith((ReadOnlySpan<byte>)[(byte)'M', (byte)'M', 0, (byte)'*']))
        {
            return ImageFormat.Tiff;
        }
        return null;
    }
}
