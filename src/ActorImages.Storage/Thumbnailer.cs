using MetadataExtractor;
using MetadataExtractor.Formats.Jpeg;
using Directory = System.IO.Directory;
using SkiaSharp;

namespace ActorImages.Storage;

/// <summary>
/// Makes the gallery's thumbnail of an image (issue 5): a JPEG whose longest side is at most <see cref="MaxSide"/>
/// pixels, turned upright by the image's EXIF orientation, aspect ratio kept; and, the same way, the viewer's preview of
/// an image whose format browsers do not show (TIFF, HEIC, HEIF), at most <see cref="PreviewSide"/> pixels. Blocking
/// file I/O and CPU work: call it off the acknowledgement path, a few at a time. Thread-safe (no state).
/// </summary>
/// <remarks>
/// The header is checked against the pixel limit before anything is decoded (issue 9), and a large image is never
/// decoded at full size where the codec can help: JPEG and WebP decode at a reduced scale (1/2 to 1/8 for JPEG),
/// GIF samples while it decodes; what is left is scaled down in halving steps. PNG and BMP have no reduced decode in
/// SkiaSharp (nor, for PNG, a row-by-row decode: <c>StartScanlineDecode</c> answers Unimplemented in SkiaSharp 4), so
/// they are decoded whole: at most the pixel limit × 4 bytes, which the limit bounds. A progressive JPEG decodes at a
/// reduced scale too, but libjpeg keeps every coefficient of the image meanwhile, up to 8 bytes a pixel (6 for three
/// full-resolution components: a 60 KB one whose header says 10,000 × 10,000 took 630 MB for 2.3 s); one whose
/// coefficients would take more than the pixel limit × 4 bytes gets no thumbnail (<see cref="CoefficientBytes"/>), so
/// that bound holds for every thumbnail.
/// </remarks>
public static class Thumbnailer
{
    /// <summary>Longest side of a thumbnail in pixels (issue 5).</summary>
    public const int MaxSide = 256;

    /// <summary>Longest side of a preview in pixels: 2048, a full-screen view's (README "HTTP API",
    /// <c>/api/images/{md5}/preview</c>).</summary>
    public const int PreviewSide = 2048;

    /// <summary>JPEG quality of thumbnails: small files, no visible blocks at 256 px.</summary>
    internal const int JpegQuality = 85;

    /// <summary>
    /// Whether a thumbnail can be made of <paramref name="format"/> here: of HEIC, HEIF and AVIF, whose HEVC and AV1
    /// codecs SkiaSharp's Linux build does not have, only when <see cref="HeifThumbnailer"/>'s program is installed
    /// (<see cref="Write"/> would refuse them as "no decoder for its format"); a caller can say so without fetching the
    /// bytes.
    /// </summary>
    /// <param name="format">the image's format</param>
    /// <returns>false for HEIC, HEIF and AVIF when <see cref="HeifThumbnailer.IsAvailable"/> is false; else true</returns>
    public static bool Decodes(ImageFormat format) => !format.IsHeif() || HeifThumbnailer.IsAvailable;

    /// <summary>
    /// Reads the image in <paramref name="source"/> and writes its thumbnail to <paramref name="target"/> as JPEG.
    /// The target appears whole or not at all: the JPEG goes to a temp file beside it that is then renamed over it
    /// (a reader never sees half a thumbnail). Not fsynced: a thumbnail lost in a crash is made again.
    /// </summary>
    /// <param name="source">an image file: JPEG, PNG, GIF (first frame), BMP, WebP, TIFF (first page; of a camera's raw
    /// file, its largest JPEG preview); HEIC, HEIF or
    /// AVIF when <see cref="Decodes"/> says so (rendered by <see cref="HeifThumbnailer"/>)</param>
    /// <param name="target">the thumbnail file; its folder is created when missing</param>
    /// <param name="maxPixels">the pixel limit (width × height), at least 1; the default is 100 megapixels</param>
    /// <param name="maxSide">the longest side of the JPEG in pixels, at least 1: <see cref="MaxSide"/> (a thumbnail,
    /// the default) or <see cref="PreviewSide"/> (a preview); a smaller image keeps its size</param>
    /// <exception cref="InvalidImageException"><c>unreadable image: …</c> when no decoder here decodes it, or
    /// <c>image too large (…)</c> over the pixel limit</exception>
    /// <exception cref="IOException">reading the source or writing the target failed, or the machine refused the HEIF
    /// renderer a thread, a process or memory (<see cref="HeifThumbnailer.RefusedByTheMachine"/>)</exception>
    public static void Write(string source, string target, long maxPixels = ImageProbe.DefaultMaxPixels,
        int maxSide = MaxSide)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSide, 1);
        var folder = Path.GetDirectoryName(Path.GetFullPath(target))!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.part");
        var rendered = Path.ChangeExtension(temp, ".png.part"); // HEIF's pixels, rendered by HeifThumbnailer
        try
        {
            if (ImageProbe.Sniff(source, out _) is { } format && format.IsHeif())
            {
                HeifThumbnailer.RenderPng(source, format, rendered, maxPixels, maxSide);
                source = rendered;
            }
            using var thumbnail = Thumbnail(source, maxPixels, maxSide);
            using (var output = File.Create(temp))
            {
                if (!thumbnail.Encode(output, SKEncodedImageFormat.Jpeg, JpegQuality))
                {
                    throw new IOException($"encoding the thumbnail of {source} as JPEG failed");
                }
            }
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
            File.Delete(rendered);
        }
    }

    /// <summary>
    /// The thumbnail of <paramref name="source"/>, upright, at most <paramref name="maxSide"/> pixels on its longest
    /// side (a smaller image keeps its size), opaque: transparent parts are drawn on white, since JPEG has no alpha.
    /// </summary>
    /// <exception cref="InvalidImageException">as <see cref="Write"/></exception>
    internal static SKBitmap Thumbnail(string source, long maxPixels, int maxSide = MaxSide)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        using var decoded = Decode(source, maxPixels, maxSide, out var origin);
        var (width, height) = Fit(decoded.Width, decoded.Height, maxSide);
        using var scaled = ScaleDown(decoded, width, height);
        return Orient(scaled, origin);
    }

    /// <summary>
    /// The size of the thumbnail of a <paramref name="width"/> × <paramref name="height"/> image: the longest side
    /// becomes <paramref name="maxSide"/> (or stays, when smaller), the other keeps the ratio, rounded, at least 1.
    /// </summary>
    internal static (int Width, int Height) Fit(int width, int height, int maxSide = MaxSide)
    {
        int longest = Math.Max(width, height);
        if (longest <= maxSide)
        {
            return (width, height);
        }
        double scale = (double)maxSide / longest;
        return (Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }

    private static SKBitmap Decode(string source, long maxPixels, int maxSide, out SKEncodedOrigin origin)
    {
        using var codec = SKCodec.Create(source, out var result);
        if (codec is null)
        {
            // SkiaSharp has no TIFF codec: baseline TIFF is read here.
            if (result == SKCodecResult.Unimplemented && ImageProbe.Sniff(source, out _) == ImageFormat.Tiff)
            {
                return DecodeTiff(source, maxPixels, maxSide, out origin);
            }
            throw new InvalidImageException($"unreadable image: {Reason(result)}");
        }
        origin = codec.EncodedOrigin;
        return Decode(codec, () => ImageProbe.ReadJpegFrame(source), maxPixels, maxSide);
    }

    /// <summary>
    /// A TIFF's pixels: a camera raw file's largest JPEG preview (<see cref="TiffHeader.FindPreviewJpeg"/>: a DNG's,
    /// NEF's or ARW's, larger than the small uncompressed preview in IFD0 or the only one there is), decoded as any JPEG,
    /// turned by IFD0's orientation; else, or when that stream does not decode, the first page by
    /// <see cref="TiffThumbnailDecoder"/>.
    /// </summary>
    private static SKBitmap DecodeTiff(string source, long maxPixels, int maxSide, out SKEncodedOrigin origin)
    {
        if (TiffHeader.FindPreviewJpeg(source) is var (offset, length, previewOrigin))
        {
            // The file mapped, not read (SkData::MakeFromFileName), and the stream a view of it: no copy of its bytes.
            using var file = SKData.Create(source);
            using var data = file?.Subset((ulong)offset, (ulong)length);
            using var codec = data is null ? null : SKCodec.Create(data);
            if (codec?.EncodedFormat == SKEncodedImageFormat.Jpeg)
            {
                try
                {
                    var preview = Decode(codec, () =>
                    {
                        using var stream = data!.AsStream(false);
                        return ImageProbe.ReadJpegFrame(stream);
                    }, maxPixels, maxSide);
                    origin = previewOrigin;
                    return preview;
                }
                catch (InvalidImageException)
                {
                    // the first page's pixels instead
                }
            }
        }
        return TiffThumbnailDecoder.Decode(source, 2 * maxSide, maxPixels, out origin);
    }

    /// <summary>The pixels <paramref name="codec"/> decodes, at the smallest scale it offers that keeps at least twice
    /// <paramref name="maxSide"/>; <paramref name="jpegFrame"/> reads a JPEG's start-of-frame segment for the
    /// progressive JPEG's bound (<see cref="CoefficientBytes"/>).</summary>
    /// <exception cref="InvalidImageException">over the pixel limit, or the codec fails</exception>
    private static SKBitmap Decode(SKCodec codec, Func<JpegDirectory?> jpegFrame, long maxPixels, int maxSide)
    {
        ImageProbe.CheckPixels(codec.Info.Width, codec.Info.Height, maxPixels);
        if (codec.EncodedFormat == SKEncodedImageFormat.Jpeg && jpegFrame() is { } frame
            && CoefficientBytes(frame) is var coefficients && coefficients > maxPixels * 4)
        {
            throw new InvalidImageException($"image too large to decode (a progressive JPEG: {coefficients >> 20} MiB " +
                $"of coefficients, limit {(maxPixels * 4) >> 20} MiB)");
        }
        // Decode at the smallest size the codec offers that keeps at least twice the thumbnail, so the final
        // scaling still has pixels to average.
        int longest = Math.Max(codec.Info.Width, codec.Info.Height);
        var size = codec.Info.Size;
        if (longest > 2 * maxSide)
        {
            var scaled = codec.GetScaledDimensions(2f * maxSide / longest);
            if (scaled.Width >= 1 && scaled.Height >= 1 && (long)scaled.Width * scaled.Height < (long)size.Width * size.Height)
            {
                size = scaled;
            }
        }
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul,
            SKColorSpace.CreateSrgb());
        var bitmap = new SKBitmap();
        if (!bitmap.TryAllocPixels(info))
        {
            bitmap.Dispose();
            throw new InvalidImageException($"image too large to decode ({size.Width}x{size.Height} pixels)");
        }
        var result = codec.GetPixels(info, bitmap.GetPixels());
        // A file whose last rows are missing still shows the rows it has; SkiaSharp fills the rest.
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            bitmap.Dispose();
            throw new InvalidImageException($"unreadable image: {Reason(result)}");
        }
        return bitmap;
    }

    /// <summary>
    /// The bytes libjpeg keeps while it decodes a progressive JPEG (at any scale): every component's 8 × 8 blocks at its
    /// sampled size, 64 coefficients of 2 bytes each (ITU-T T.81, A.1.1; libjpeg's whole-image coefficient buffer).
    /// 0 for a sequential JPEG, which is decoded a few rows of blocks at a time.
    /// </summary>
    /// <param name="frame">the JPEG's start-of-frame segment (<see cref="ImageProbe.ReadJpegFrame(string)"/>)</param>
    /// <returns>bytes, or 0</returns>
    internal static long CoefficientBytes(JpegDirectory frame)
    {
        // The compression type is the SOF marker's number: 2, 6, 10 and 14 are the progressive ones.
        if (!frame.TryGetInt32(JpegDirectory.TagCompressionType, out var sof) || sof is not (2 or 6 or 10 or 14)
            || !frame.TryGetInt64(JpegDirectory.TagImageWidth, out var width)
            || !frame.TryGetInt64(JpegDirectory.TagImageHeight, out var height)
            || !frame.TryGetInt32(JpegDirectory.TagNumberOfComponents, out var count))
        {
            return 0;
        }
        var components = Enumerable.Range(0, Math.Clamp(count, 0, 255)).Select(frame.GetComponent).OfType<JpegComponent>()
            .Select(c => (H: Math.Max(1, c.HorizontalSamplingFactor), V: Math.Max(1, c.VerticalSamplingFactor)))
            .ToList();
        if (components.Count == 0)
        {
            return 0;
        }
        int hMax = components.Max(c => c.H), vMax = components.Max(c => c.V);
        return components.Sum(c => Blocks(width * c.H, hMax) * Blocks(height * c.V, vMax) * 128);

        static long Blocks(long samples, int max) => ((samples + max - 1) / max + 7) / 8;
    }

    private static string Reason(SKCodecResult result) => result switch
    {
        SKCodecResult.Unimplemented => "no decoder for its format",
        SKCodecResult.IncompleteInput => "cut short",
        _ => $"decoder says {result}",
    };

    // Halving steps: one step from far above the target skips pixels and aliases.
    private static SKBitmap ScaleDown(SKBitmap image, int width, int height)
    {
        if (image.Width == width && image.Height == height)
        {
            return image.Copy();
        }
        var current = image;
        var sampling = new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None);
        while (current.Width != width || current.Height != height)
        {
            int w = Math.Max(width, current.Width / 2);
            int h = Math.Max(height, current.Height / 2);
            var next = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul,
                SKColorSpace.CreateSrgb()));
            current.ScalePixels(next, sampling);
            if (!ReferenceEquals(current, image))
            {
                current.Dispose();
            }
            current = next;
        }
        return current;
    }

    /// <summary>
    /// <paramref name="image"/> turned upright for the EXIF orientation <paramref name="origin"/> (TIFF 6.0 tag 274:
    /// 1 as stored, 2 mirrored, 3 turned 180°, 4 flipped, 5 transposed, 6 turned 90° clockwise to view,
    /// 7 transversed, 8 turned 90° counter-clockwise to view), drawn opaque on white.
    /// </summary>
    internal static SKBitmap Orient(SKBitmap image, SKEncodedOrigin origin)
    {
        int w = image.Width;
        int h = image.Height;
        bool swap = ImageProbe.TurnsAQuarter(origin);
        // Each matrix maps a stored pixel (x, y) to its upright place; whole-pixel translations keep it exact.
        var matrix = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
            _ => SKMatrix.Identity,
        };
        var upright = new SKBitmap(new SKImageInfo(swap ? h : w, swap ? w : h, SKColorType.Rgba8888,
            SKAlphaType.Premul, SKColorSpace.CreateSrgb()));
        using var canvas = new SKCanvas(upright);
        canvas.Clear(SKColors.White);
        canvas.SetMatrix(matrix);
        using var picture = SKImage.FromBitmap(image);
        canvas.DrawImage(picture, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
        canvas.Flush();
        return upright;
    }
}
