using SkiaSharp;

namespace ActorImages.Storage;

/// <summary>
/// Reads the first page of a baseline TIFF for a thumbnail, since SkiaSharp has no TIFF codec: uncompressed strips,
/// 8 or 16 bits per sample, grey (1 sample) or RGB (3, or 4 with an extra alpha sample), chunky. It reads only every
/// n-th row and column, so memory is one row plus the sampled image whatever the page's size. 16-bit samples (as
/// scientific software writes, e.g. testdata's multipage_rgb.tif) keep their high byte. Anything else (LZW,
/// JPEG-in-TIFF, tiles, planes, floating-point samples) is an <see cref="InvalidImageException"/>: the image is stored, only its thumbnail is
/// missing. A camera raw file's JPEG preview, and a page that is one whole JPEG stream, are decoded before this is
/// tried (Thumbnailer, <see cref="TiffHeader.FindPreviewJpeg"/>).
/// </summary>
internal static class TiffThumbnailDecoder
{
    private const int TagBitsPerSample = 258;
    private const int TagCompression = 259;
    private const int TagPhotometric = 262;
    private const int TagStripOffsets = 273;
    private const int TagSamplesPerPixel = 277;
    private const int TagRowsPerStrip = 278;
    private const int TagPlanarConfiguration = 284;
    private const int TagSampleFormat = 339;

    /// <summary>The tags of IFD0 this reads.</summary>
    private static readonly int[] Tags =
    [
        TiffHeader.ImageWidth, TiffHeader.ImageLength, TagBitsPerSample, TagCompression, TagPhotometric, TagStripOffsets,
        TagSamplesPerPixel, TagRowsPerStrip, TagPlanarConfiguration, TagSampleFormat, TiffHeader.Orientation,
    ];

    /// <summary>
    /// The first page, sampled so its longest side is at least <paramref name="minLongestSide"/> where it is larger.
    /// </summary>
    /// <param name="file">a TIFF file</param>
    /// <param name="minLongestSide">the least longest side in pixels the sampled page keeps</param>
    /// <param name="maxPixels">the pixel limit (width × height)</param>
    /// <param name="origin">the page's orientation (<see cref="TiffHeader.Origin"/>): how to turn the result upright</param>
    /// <exception cref="InvalidImageException">not a TIFF this reads, or over <paramref name="maxPixels"/></exception>
    public static SKBitmap Decode(string file, int minLongestSide, long maxPixels, out SKEncodedOrigin origin)
    {
        using var handle = File.OpenHandle(file);
        long length = RandomAccess.GetLength(handle);
        var directory = TiffHeader.Read(handle, Tags);
        origin = TiffHeader.Origin(directory);
        bool little = directory.LittleEndian;
        var ifd = directory.Tags;

        int width = (int)Math.Min(int.MaxValue, ifd.GetValueOrDefault(TiffHeader.ImageWidth, [0])[0]);
        int height = (int)Math.Min(int.MaxValue, ifd.GetValueOrDefault(TiffHeader.ImageLength, [0])[0]);
        ImageProbe.CheckPixels(width, height, maxPixels);
        int samples = (int)ifd.GetValueOrDefault(TagSamplesPerPixel, [1])[0];
        long compression = ifd.GetValueOrDefault(TagCompression, [1])[0];
        long photometric = ifd.GetValueOrDefault(TagPhotometric, [1])[0];
        Require(compression == 1, $"tiff compression {compression} not read here");
        Require(ifd.GetValueOrDefault(TagPlanarConfiguration, [1])[0] == 1, "planar tiff not read here");
        Require(ifd.GetValueOrDefault(TagSampleFormat, [1]).All(f => f == 1), "tiff without integer samples not read here");
        var bits = ifd.GetValueOrDefault(TagBitsPerSample, [8]);
        Require(bits.All(b => b == bits[0]) && bits[0] is 8 or 16, "only 8- and 16-bit tiff read here");
        int sampleBytes = (int)bits[0] / 8;
        // The high byte of a 16-bit sample: its second byte in little-endian order.
        int high = sampleBytes == 2 && little ? 1 : 0;
        Require(samples is 1 or 3 or 4 && photometric is 0 or 1 or 2 && (samples == 1) == (photometric < 2),
            $"tiff with {samples} samples, photometric {photometric} not read here");
        var strips = ifd.GetValueOrDefault(TagStripOffsets)
            ?? throw new InvalidImageException("unreadable image: tiff without strips");
        long rowsPerStrip = Math.Clamp(ifd.GetValueOrDefault(TagRowsPerStrip, [uint.MaxValue])[0], 1, height);

        int step = Math.Max(1, Math.Max(width, height) / minLongestSide);
        int outWidth = (width + step - 1) / step;
        int outHeight = (height + step - 1) / step;
        int pixelBytes = samples * sampleBytes;
        long rowBytes = (long)width * pixelBytes;
        Require(rowBytes <= int.MaxValue, "tiff row too long");
        // A header may claim any width: the row buffer is allocated only for a row the file can hold.
        Require(rowBytes <= length, "tiff cut short");
        var row = new byte[rowBytes];
        var bitmap = new SKBitmap(new SKImageInfo(outWidth, outHeight, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        try
        {
            for (int oy = 0; oy < outHeight; oy++)
            {
                long y = (long)oy * step;
                long strip = y / rowsPerStrip;
                Require(strip < strips.Length, "tiff with fewer strips than rows");
                long offset = strips[strip] + (y % rowsPerStrip) * rowBytes;
                Require(offset + rowBytes <= length, "tiff cut short");
                RandomAccess.Read(handle, row, offset);
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int i = ox * step * pixelBytes + high;
                    byte r = row[i];
                    bool inverted = photometric == 0;
                    var color = samples == 1
                        ? new SKColor(Grey(r, inverted), Grey(r, inverted), Grey(r, inverted))
                        : new SKColor(r, row[i + sampleBytes], row[i + 2 * sampleBytes],
                            samples == 4 ? row[i + 3 * sampleBytes] : (byte)255);
                    bitmap.SetPixel(ox, oy, color);
                }
            }
            return bitmap;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    private static byte Grey(byte value, bool whiteIsZero) => whiteIsZero ? (byte)(255 - value) : value;

    private static void Require(bool condition, string reason) => TiffHeader.Require(condition, reason);
}
