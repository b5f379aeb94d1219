namespace ActorImages.Storage;

/// <summary>
/// The image formats a node accepts, recognised by their magic numbers (docs/protocols.md, P1 "bytes that are not
/// an image": JPEG, PNG, GIF, BMP, WebP, TIFF at least; and HEIC, HEIF and AVIF, which phones write). The format
/// decides the stored file's extension, which therefore is not always <c>.jpg</c> as in the seed.
/// <see cref="ImageFormats"/> holds the extension, media type and sniffing. Compiled into the CLI too, which
/// recognises image files the same way.
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

    /// <summary>HEIC: HEIF with HEVC-coded images, what iPhones (and many Android phones) write by default; an ISO
    /// base media file whose major brand is <c>heic</c>, <c>heix</c>, <c>heim</c>, <c>heis</c>, <c>hevc</c> or
    /// <c>hevx</c>; extension <c>heic</c>, <c>image/heic</c>.</summary>
    Heic,

    /// <summary>HEIF whose major brand names no codec (<c>mif1</c>, <c>msf1</c>); extension <c>heif</c>,
    /// <c>image/heif</c>.</summary>
    Heif,

    /// <summary>AVIF: HEIF with AV1-coded images (major brand <c>avif</c> or <c>avis</c>); extension <c>avif</c>,
    /// <c>image/avif</c>.</summary>
    Avif,
}

/// <summary>The extension, media type and magic-number sniffing of each <see cref="ImageFormat"/>.</summary>
public static class ImageFormats
{
    /// <summary>Bytes that <see cref="Sniff"/> needs to tell every format apart: WebP's <c>WEBP</c> tag and the major
    /// brand of a HEIF file's <c>ftyp</c> box end at offset 12.</summary>
    public const int SniffBytes = 12;

    /// <summary>The stored file's extension without the dot: <c>jpg</c>, <c>png</c>, <c>gif</c>, <c>bmp</c>,
    /// <c>webp</c>, <c>tif</c>, <c>heic</c>, <c>heif</c> or <c>avif</c>.</summary>
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
        ImageFormat.Heic => "heic",
        ImageFormat.Heif => "heif",
        ImageFormat.Avif => "avif",
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
        ImageFormat.Heic => "image/heic",
        ImageFormat.Heif => "image/heif",
        ImageFormat.Avif => "image/avif",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not an image format"),
    };

    /// <summary>Whether <paramref name="format"/> is of the HEIF family (HEIC, HEIF, AVIF): read by its boxes, not by
    /// SkiaSharp, which has no codec for it on Linux.</summary>
    /// <param name="format">the format</param>
    public static bool IsHeif(this ImageFormat format) => format is ImageFormat.Heic or ImageFormat.Heif or ImageFormat.Avif;

    /// <summary>The format whose <see cref="MediaType"/> is <paramref name="mediaType"/> (as the catalog keeps it),
    /// or null for none.</summary>
    /// <param name="mediaType">a media type such as <c>image/heic</c></param>
    public static ImageFormat? FromMediaType(string mediaType) =>
        Enum.GetValues<ImageFormat>().Where(f => f.MediaType() == mediaType).Select(f => (ImageFormat?)f).FirstOrDefault();

    /// <summary>The format's lowercase name in reasons shown to clients: <c>jpeg</c>, <c>png</c>, ... <c>tiff</c>.</summary>
    internal static string Name(this ImageFormat format) => format.ToString().ToLowerInvariant();

    /// <summary>
    /// Recognises a format from the first bytes of a file. Only a first guess, so junk is refused before it fills a
    /// temp file: whether the bytes are an image is decided by <c>ImageProbe</c> reading the header.
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
        // An ISO base media file (HEIF, but also MP4 and QuickTime video): its first box is ftyp, whose major brand
        // says which (ISO/IEC 23008-12 for HEIF's brands, ISO/IEC 23000-22 and AV1's spec for AVIF's).
        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8))
        {
            var brand = head[8..12];
            if (brand.SequenceEqual("heic"u8) || brand.SequenceEqual("heix"u8) || brand.SequenceEqual("heim"u8)
                || brand.SequenceEqual("heis"u8) || brand.SequenceEqual("hevc"u8) || brand.SequenceEqual("hevx"u8))
            {
                return ImageFormat.Heic;
            }
            if (brand.SequenceEqual("mif1"u8) || brand.SequenceEqual("msf1"u8))
            {
                return ImageFormat.Heif;
            }
            if (brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8))
            {
                return ImageFormat.Avif;
            }
        }
        return null;
    }
}
