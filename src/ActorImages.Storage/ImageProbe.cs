using MetadataExtractor;
using MetadataExtractor.Formats.Jpeg;
using SkiaSharp;

namespace ActorImages.Storage;

/// <summary>What a decoder read from an image's header, without decoding its pixels.</summary>
/// <param name="Format">the format</param>
/// <param name="Width">width in pixels as the image is shown, at least 1: the stored height when the image's
/// orientation turns it a quarter (EXIF or TIFF Orientation 5 to 8, HEIF <c>irot</c> of 90° or 270°; a phone's portrait
/// photo), else the stored width</param>
/// <param name="Height">height in pixels as the image is shown, at least 1</param>
public sealed record ImageHeader(ImageFormat Format, int Width, int Height)
{
    /// <summary>Width × height: what the pixel limit is checked against.</summary>
    public long Pixels => (long)Width * Height;
}

/// <summary>
/// Decides whether a file is an image the node stores: a maintained decoder reads its header, format and
/// dimensions, and the dimensions are within the pixel limit (issue 9). SkiaSharp's codec reads JPEG (baseline,
/// progressive, CMYK), PNG (8- and 16-bit), GIF, BMP and WebP; a JPEG it refuses for a reason other than a cut header
/// (12-bit or lossless coding, which SkiaSharp's libjpeg-turbo does not decode) is read by MetadataExtractor's
/// start-of-frame reader alone; <see cref="TiffHeader"/> reads TIFF (the first page's IFD) and <see cref="HeifHeader"/>
/// HEIC, HEIF and AVIF (the primary image's <c>ispe</c> property), since SkiaSharp has no codec for them here. None
/// decodes pixels, and each reads only the bytes that say the size, so a 64 MiB upload costs a header parse whatever
/// its other metadata says. The dimensions are the image's as shown, after the quarter turn its orientation may ask
/// for (<see cref="ImageHeader"/>), as the thumbnail and a browser show it; a JPEG that SkiaSharp refuses keeps the
/// stored ones (its Exif is not parsed, <see cref="ReadRefused"/>).
/// </summary>
/// <remarks>
/// No end marker is required: phones append a video after a JPEG's EOI (motion photos), and PNG writers put chunks
/// after IEND; such files are images and are stored exactly as sent. A transfer cut short is caught by its length
/// instead (docs/protocols.md, P1 length header, P2 size). Stateless and thread-safe; blocking file I/O.
/// </remarks>
public static class ImageProbe
{
    /// <summary>The default pixel limit: 100 megapixels (issue 9). Larger headers are refused before any decode,
    /// so neither the probe nor the thumbnailer ever allocates for more pixels than that.</summary>
    public const long DefaultMaxPixels = 100_000_000;

    /// <summary>
    /// Reads the header of <paramref name="file"/>, sniffing its format first.
    /// </summary>
    /// <param name="file">an image file</param>
    /// <param name="maxPixels">the pixel limit (width × height), at least 1</param>
    /// <returns>the header</returns>
    /// <exception cref="InvalidImageException">not an image (unknown format), an unreadable or cut header, or more
    /// pixels than <paramref name="maxPixels"/></exception>
    /// <exception cref="IOException">the file cannot be read</exception>
    public static ImageHeader Read(string file, long maxPixels = DefaultMaxPixels)
    {
        var format = Sniff(file, out var empty)
            ?? throw new InvalidImageException(empty ? "empty image" : "not an image (unknown format)");
        return Read(file, format, maxPixels);
    }

    /// <summary>The format whose magic number starts <paramref name="file"/> (<see cref="ImageFormats.Sniff"/>), or
    /// null; <paramref name="empty"/> says whether the file has no byte at all.</summary>
    /// <exception cref="IOException">the file cannot be read</exception>
    internal static ImageFormat? Sniff(string file, out bool empty)
    {
        Span<byte> head = stackalloc byte[ImageFormats.SniffBytes];
        int length;
        using (var stream = File.OpenRead(file))
        {
            length = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        empty = length == 0;
        return ImageFormats.Sniff(head[..length]);
    }

    /// <summary>
    /// Reads the header of <paramref name="file"/>, whose magic number said <paramref name="format"/>.
    /// </summary>
    /// <param name="file">an image file</param>
    /// <param name="format">the sniffed format; a header of another format is refused</param>
    /// <param name="maxPixels">the pixel limit (width × height), at least 1</param>
    /// <returns>the header</returns>
    /// <exception cref="InvalidImageException"><c>unreadable &lt;format&gt; header</c>,
    /// <c>truncated &lt;format&gt; header</c>, or <c>image too large (W×H pixels, limit N)</c></exception>
    /// <exception cref="IOException">the file cannot be read</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPixels"/> is below 1</exception>
    public static ImageHeader Read(string file, ImageFormat format, long maxPixels = DefaultMaxPixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException("no such image file", file);
        }
        var header = format.IsHeif() ? ReadHeif(file, format)
            : format == ImageFormat.Tiff ? ReadTiff(file)
            : ReadWithSkia(file, format, out var skiaResult) ?? ReadRefused(file, format, skiaResult);
        CheckPixels(header.Width, header.Height, maxPixels);
        return header;
    }

    /// <summary>Refuses dimensions over the pixel limit, or not positive.</summary>
    /// <exception cref="InvalidImageException">as described</exception>
    internal static void CheckPixels(int width, int height, long maxPixels)
    {
        if (width < 1 || height < 1)
        {
            throw new InvalidImageException($"image without pixels ({width}x{height})");
        }
        if ((long)width * height > maxPixels)
        {
            throw new InvalidImageException($"image too large ({width}x{height} pixels, limit {maxPixels})");
        }
    }

    /// <summary>Whether the EXIF orientation <paramref name="origin"/> (5 to 8; TIFF 6.0 tag 274) turns the stored image
    /// a quarter, so that it is shown with its width and height swapped (<see cref="ImageHeader"/>; the thumbnail's
    /// turn, Thumbnailer.Orient).</summary>
    internal static bool TurnsAQuarter(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom
            or SKEncodedOrigin.LeftBottom;

    private static ImageHeader? ReadWithSkia(string file, ImageFormat format, out SKCodecResult result)
    {
        using var codec = SKCodec.Create(file, out result);
        if (codec is null)
        {
            return null;
        }
        var decoded = FromSkia(codec.EncodedFormat);
        if (decoded != format)
        {
            throw new InvalidImageException($"unreadable {format.Name()} header (a {codec.EncodedFormat} inside)");
        }
        // SkiaSharp reads the EXIF orientation of a JPEG (APP1) and of a WebP (its EXIF chunk).
        return TurnsAQuarter(codec.EncodedOrigin)
            ? new ImageHeader(format, codec.Info.Height, codec.Info.Width)
            : new ImageHeader(format, codec.Info.Width, codec.Info.Height);
    }

    private static ImageFormat? FromSkia(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Jpeg => ImageFormat.Jpeg,
        SKEncodedImageFormat.Png => ImageFormat.Png,
        SKEncodedImageFormat.Gif => ImageFormat.Gif,
        SKEncodedImageFormat.Bmp => ImageFormat.Bmp,
        SKEncodedImageFormat.Webp => ImageFormat.WebP,
        _ => null,
    };

    /// <summary>HEIC, HEIF, AVIF: by <see cref="HeifHeader"/>, not MetadataExtractor, which allocated by counts in
    /// hostile files (HeifHeader's remarks); SkiaSharp has no codec for them here.</summary>
    private static ImageHeader ReadHeif(string file, ImageFormat format) => Header(format, HeifHeader.Read(file));

    /// <summary>TIFF: by <see cref="TiffHeader"/>, not MetadataExtractor, whose work grew with the file's counts
    /// (TiffHeader's remarks); SkiaSharp has no TIFF codec.</summary>
    private static ImageHeader ReadTiff(string file) => Header(ImageFormat.Tiff, TiffHeader.Size(file));

    /// <summary>
    /// A file SkiaSharp's codec refused. Cut inside its header (a JPEG before its first scan, a PNG before its image
    /// data): no decoder can show it, whatever a metadata parser still finds in the part that arrived. A JPEG refused for
    /// another reason keeps the size its start-of-frame segment gives, read by MetadataExtractor's <see cref="JpegReader"/>
    /// alone: the library's other readers (Exif, XMP, ICC, …) parse every segment, and a 1.2 MB JPEG of Exif segments
    /// whose directories claim thousands of long tags made them keep 6 GB (TiffHeader's remarks). PNG, GIF, BMP and WebP
    /// are read by the reference decoders (libpng, Wuffs, libwebp) in SkiaSharp: a header they refuse is unreadable.
    /// </summary>
    private static ImageHeader ReadRefused(string file, ImageFormat format, SKCodecResult skiaResult)
    {
        if (skiaResult == SKCodecResult.IncompleteInput)
        {
            throw new InvalidImageException($"truncated {format.Name()} header");
        }
        if (format != ImageFormat.Jpeg)
        {
            throw new InvalidImageException($"unreadable {format.Name()} header");
        }
        return Header(format, ReadJpegFrame(file) is { } frame
            && frame.TryGetInt64(JpegDirectory.TagImageWidth, out var width)
            && frame.TryGetInt64(JpegDirectory.TagImageHeight, out var height) ? (width, height) : null);
    }

    /// <summary>
    /// A JPEG's start-of-frame segment (size, coding, components and their sampling), read by MetadataExtractor's
    /// <see cref="JpegReader"/> alone, which skips every other segment (<see cref="ReadRefused"/> says why).
    /// </summary>
    /// <param name="file">a JPEG file</param>
    /// <returns>the frame's directory, or null when the file has none or its segments do not parse</returns>
    internal static JpegDirectory? ReadJpegFrame(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            return ReadJpegFrame(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>As <see cref="ReadJpegFrame(string)"/>, of the JPEG in <paramref name="stream"/> (read from its
    /// position).</summary>
    /// <param name="stream">a JPEG stream, e.g. a raw file's preview</param>
    /// <returns>the frame's directory, or null when the stream has none or its segments do not parse</returns>
    internal static JpegDirectory? ReadJpegFrame(Stream stream)
    {
        try
        {
            return JpegMetadataReader.ReadMetadata(stream, [new JpegReader()]).OfType<JpegDirectory>().FirstOrDefault();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A parser's own failure on hostile bytes must not escape as anything but "unreadable": a list of the types
            // it throws missed MetadataException ("Marker 255 found inside DHT segment", 95 of 6,000 damaged JPEGs).
            return null;
        }
    }

    /// <summary>The header of a <paramref name="format"/> image of the <paramref name="size"/> its reader found: each side
    /// 1 to <see cref="int.MaxValue"/>, else, or when the reader found none, <c>unreadable &lt;format&gt; header</c>.</summary>
    /// <exception cref="InvalidImageException">as described</exception>
    private static ImageHeader Header(ImageFormat format, (long Width, long Height)? size) =>
        size is var (width, height) && width is >= 1 and <= int.MaxValue && height is >= 1 and <= int.MaxValue
            ? new ImageHeader(format, (int)width, (int)height)
            : throw new InvalidImageException($"unreadable {format.Name()} header");
}
