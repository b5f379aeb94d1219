using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using SkiaSharp;

namespace ActorImages.Storage;

/// <summary>
/// Reads a TIFF's first image file directory (IFD0, TIFF 6.0 section 2): the SHORT, LONG and IFD values of the tags a
/// caller asks for, each read once. The probe takes the first page's width, height and orientation from it
/// (<see cref="Size"/>; for a camera's raw file, whose IFD0 is a small preview, the full image's size from its
/// SubIFDs), the thumbnail decoder its strips (<see cref="TiffThumbnailDecoder"/>).
/// </summary>
/// <remarks>
/// Not MetadataExtractor's TIFF reader, which the probe used first: it reads and keeps the values of every tag of every
/// directory, so its work grows with what the file's counts say, not with what the probe needs — a 4 MB TIFF whose IFD0
/// has 4,000 tags of a million LONG values each (the same 4 MB of the file, pointed at 4,000 times) took it 176 s of a
/// core, and a JPEG's Exif segments made of such directories, 6 GB of memory for 1.2 MB of file (README "What gets
/// in"; out of memory ends a node, README "Limits and security"). Here the work is one pass over the directory's
/// entries (at most 65,535 of 12 bytes) and one read of each wanted tag's values, at most <see cref="MaxValues"/> of
/// them: bounded by the file's first directory (and, for a raw file's size, at most <see cref="MaxSubIfds"/> more),
/// whatever its counts say. Thread-safe (no state); blocking file I/O.
/// </remarks>
internal static class TiffHeader
{
    /// <summary>TIFF 6.0 tag 256, the page's width in pixels.</summary>
    public const int ImageWidth = 256;

    /// <summary>TIFF 6.0 tag 257, the page's height (rows) in pixels.</summary>
    public const int ImageLength = 257;

    /// <summary>TIFF 6.0 tag 274, the page's orientation: 1 to 8 as EXIF's (<see cref="Origin"/>).</summary>
    public const int Orientation = 274;

    /// <summary>TIFF 6.0 tag 254: bit 0 set when the directory's image is a reduced-resolution version of another image in
    /// the file (a DNG's or NEF's IFD0 preview of the raw image in a SubIFD).</summary>
    public const int NewSubfileType = 254;

    /// <summary>Tag 330 (TIFF Technical Note 1, Adobe): the offsets of child directories, where DNG (1.4, section 3)
    /// and TIFF-based camera raw files keep the full-resolution raw image beside IFD0's preview.</summary>
    public const int SubIfds = 330;

    /// <summary>DNG tag 50720: the raw image's size once cropped to what the camera shows, width then height (SHORT,
    /// LONG or RATIONAL; only the first two are read).</summary>
    public const int DefaultCropSize = 50720;

    /// <summary>The most SubIFDs looked at for the full-resolution image: 8 (a DNG has one to three).</summary>
    public const int MaxSubIfds = 8;

    /// <summary>TIFF 6.0 tag 259: 1 uncompressed; 6 JPEG as TIFF 6.0 section 22 had it, 7 JPEG (Technical Note 2).</summary>
    public const int Compression = 259;

    /// <summary>TIFF 6.0 tag 262: 2 RGB, 6 YCbCr; a raw image's CFA (32803) or LinearRaw (34892) is no picture.</summary>
    public const int Photometric = 262;

    /// <summary>TIFF 6.0 tag 273: where each strip's bytes start.</summary>
    public const int StripOffsets = 273;

    /// <summary>TIFF 6.0 tag 279: each strip's length in bytes.</summary>
    public const int StripByteCounts = 279;

    /// <summary>TIFF 6.0 tag 513 (section 22): where a whole JPEG stream starts (a NEF's or ARW's preview).</summary>
    public const int JpegInterchangeFormat = 513;

    /// <summary>TIFF 6.0 tag 514: that stream's length in bytes.</summary>
    public const int JpegInterchangeFormatLength = 514;

    /// <summary>The most values read of one tag: 2^20 (a strip per row of a 1-million-row page); a tag with more is
    /// treated as absent.</summary>
    public const int MaxValues = 1 << 20;

    private const int EntryBytes = 12;

    /// <summary>
    /// The first page's width and height as it is shown, from IFD0 of <paramref name="file"/> (swapped when its
    /// <see cref="Orientation"/> turns it a quarter, as a camera's portrait photo), or null when the directory is cut,
    /// points outside the file, or lacks either tag. When IFD0 is a reduced-resolution image (<see cref="NewSubfileType"/>
    /// bit 0, as a DNG's or NEF's preview) with <see cref="SubIfds"/>, the size is that of the first SubIFD (of at most
    /// <see cref="MaxSubIfds"/>) that holds a full-resolution image, cropped by its <see cref="DefaultCropSize"/> where
    /// it has one: a camera's raw file is listed at the photo's size, not its preview's. A SubIFD that cannot be read
    /// is skipped; without a readable one, IFD0's size stands.
    /// </summary>
    /// <param name="file">a file starting with a TIFF magic number (<c>II*\0</c> or <c>MM\0*</c>)</param>
    /// <returns>width and height in pixels (each 0 to 2^32 − 1, unchecked), or null</returns>
    /// <exception cref="IOException">the file cannot be read</exception>
    public static (long Width, long Height)? Size(string file)
    {
        using var handle = File.OpenHandle(file);
        try
        {
            var ifd = Read(handle, [ImageWidth, ImageLength, Orientation, NewSubfileType, SubIfds]);
            if (!ifd.Tags.TryGetValue(ImageWidth, out var width) || !ifd.Tags.TryGetValue(ImageLength, out var height))
                return null;
            var (w, h) = IsReduced(ifd) ? FullResolutionSize(handle, ifd) ?? (width[0], height[0]) : (width[0], height[0]);
            return ImageProbe.TurnsAQuarter(Origin(ifd)) ? (h, w) : (w, h);
        }
        catch (InvalidImageException)
        {
            return null;
        }
    }

    /// <summary>
    /// Where a camera's raw file in TIFF form keeps its largest JPEG preview: of IFD0 and its first
    /// <see cref="MaxSubIfds"/> SubIFDs, each directory holding a whole JPEG stream — JPEG compression (6 or 7) with the
    /// stream at <see cref="JpegInterchangeFormat"/>, or in a single strip whose photometric interpretation is RGB or
    /// YCbCr (a raw image's lossless JPEG strips are not) — the longest stream inside the file. Null for a TIFF whose
    /// IFD0 is an uncompressed page of its own (not a reduced-resolution preview), whose pixels are the page, and when
    /// there is none. The stream may still not decode (a strip that needs JPEGTables, a damaged file): the caller falls
    /// back to IFD0.
    /// </summary>
    /// <param name="file">a file starting with a TIFF magic number</param>
    /// <returns>the stream's offset and length in bytes, and IFD0's orientation, which applies to the preview too</returns>
    /// <exception cref="IOException">the file cannot be read</exception>
    public static (long Offset, int Length, SKEncodedOrigin Origin)? FindPreviewJpeg(string file)
    {
        using var handle = File.OpenHandle(file);
        long length = RandomAccess.GetLength(handle);
        int[] wanted = [NewSubfileType, Compression, Photometric, StripOffsets, StripByteCounts, JpegInterchangeFormat,
            JpegInterchangeFormatLength, Orientation, SubIfds];
        TiffIfd first;
        try
        {
            first = Read(handle, wanted);
        }
        catch (InvalidImageException)
        {
            return null;
        }
        if (first.Tags.GetValueOrDefault(Compression, [1])[0] == 1 && !IsReduced(first)) return null;
        var best = Children(handle, first, wanted).Prepend(first).Select(JpegStream)
            .Where(s => s is { Length: >= 4 and <= int.MaxValue } j && j.Offset + j.Length <= length)
            .MaxBy(s => s!.Value.Length);
        return best is var (offset, size) ? (offset, (int)size, Origin(first)) : null;
    }

    /// <summary>The whole JPEG stream <paramref name="ifd"/> holds (see <see cref="FindPreviewJpeg"/>), or null.</summary>
    private static (long Offset, long Length)? JpegStream(TiffIfd ifd)
    {
        var tags = ifd.Tags;
        long compression = tags.GetValueOrDefault(Compression, [1])[0];
        if (compression is not (6 or 7)) return null;
        if (tags.TryGetValue(JpegInterchangeFormat, out var start) && tags.TryGetValue(JpegInterchangeFormatLength, out var size))
            return (start[0], size[0]);
        return tags.TryGetValue(StripOffsets, out var strips) && strips.Length == 1
               && tags.TryGetValue(StripByteCounts, out var counts) && counts.Length == 1
               && tags.GetValueOrDefault(Photometric, [6])[0] is 2 or 6
            ? (strips[0], counts[0])
            : null;
    }

    /// <summary>Whether <paramref name="ifd"/> says its image is a reduced-resolution version of another
    /// (<see cref="NewSubfileType"/> bit 0).</summary>
    private static bool IsReduced(TiffIfd ifd) => ifd.Tags.TryGetValue(NewSubfileType, out var type) && (type[0] & 1) != 0;

    /// <summary>The size of the first of <paramref name="ifd0"/>'s SubIFDs that holds a full-resolution image
    /// (<see cref="Size"/>), or null.</summary>
    private static (long Width, long Height)? FullResolutionSize(SafeFileHandle handle, TiffIfd ifd0)
    {
        foreach (var child in Children(handle, ifd0, [ImageWidth, ImageLength, NewSubfileType, DefaultCropSize]))
        {
            if (IsReduced(child) || !child.Tags.TryGetValue(ImageWidth, out var width)
                || !child.Tags.TryGetValue(ImageLength, out var height))
            {
                continue;
            }
            return child.Tags.TryGetValue(DefaultCropSize, out var crop) && crop.Length >= 2
                   && crop[0] is > 0 && crop[1] is > 0 && crop[0] <= width[0] && crop[1] <= height[0]
                ? (crop[0], crop[1])
                : (width[0], height[0]);
        }
        return null;
    }

    /// <summary>The first <see cref="MaxSubIfds"/> of <paramref name="ifd0"/>'s SubIFDs (read with <see cref="SubIfds"/>
    /// among its wanted tags), each read for <paramref name="wanted"/>, in order; one that is cut or points outside the
    /// file is left out.</summary>
    private static IEnumerable<TiffIfd> Children(SafeFileHandle handle, TiffIfd ifd0, int[] wanted)
    {
        foreach (var offset in ifd0.Tags.GetValueOrDefault(SubIfds, []).Take(MaxSubIfds))
        {
            TiffIfd? child;
            try
            {
                child = Read(handle, wanted, offset);
            }
            catch (InvalidImageException)
            {
                child = null;
            }
            if (child is not null) yield return child;
        }
    }

    /// <summary>The page's orientation in <paramref name="ifd"/> (read with <see cref="Orientation"/> among the wanted
    /// tags): its value when 1 to 8, else <see cref="SKEncodedOrigin.TopLeft"/> (as stored), TIFF 6.0's default.</summary>
    /// <param name="ifd">a directory read by <see cref="Read"/></param>
    /// <returns>the origin, whose values are EXIF's and TIFF's</returns>
    public static SKEncodedOrigin Origin(TiffIfd ifd) =>
        ifd.Tags.TryGetValue(Orientation, out var values) && values[0] is >= 1 and <= 8
            ? (SKEncodedOrigin)values[0]
            : SKEncodedOrigin.TopLeft;

    /// <summary>
    /// Reads IFD0 (or the directory at <paramref name="at"/>) of the TIFF open in <paramref name="handle"/>: for each tag
    /// in <paramref name="wanted"/> that the directory holds as SHORT, LONG or IFD values (1 to <see cref="MaxValues"/>
    /// of them), its values, from its first entry. Other tags, types and repeated entries are skipped without reading
    /// their values.
    /// </summary>
    /// <param name="handle">the file, opened for reading</param>
    /// <param name="wanted">the tag numbers to read</param>
    /// <param name="at">the directory's offset in bytes from the file's start, or null for IFD0 (the header's)</param>
    /// <returns>the byte order and, per wanted tag found, at least one value</returns>
    /// <exception cref="InvalidImageException"><c>unreadable image: cut header</c>, <c>cut directory</c> or
    /// <c>cut values</c> when the header, the directory or a wanted tag's values lie past the end of the file</exception>
    /// <exception cref="IOException">the file cannot be read</exception>
    public static TiffIfd Read(SafeFileHandle handle, ReadOnlySpan<int> wanted, long? at = null)
    {
        long length = RandomAccess.GetLength(handle);
        Span<byte> header = stackalloc byte[8];
        Require(RandomAccess.Read(handle, header, 0) == 8, "cut header");
        bool little = header[0] == (byte)'I';
        long offset = at ?? ReadUInt32(header[4..], little);
        Span<byte> countBytes = stackalloc byte[2];
        Require(offset + 2 <= length && RandomAccess.Read(handle, countBytes, offset) == 2, "cut directory");
        int count = ReadUInt16(countBytes, little);
        var entries = new byte[count * EntryBytes];
        Require(RandomAccess.Read(handle, entries, offset + 2) == entries.Length, "cut directory");
        var tags = new Dictionary<int, long[]>();
        for (int e = 0; e < count; e++)
        {
            var entry = entries.AsSpan(e * EntryBytes, EntryBytes);
            int tag = ReadUInt16(entry, little);
            int size = ReadUInt16(entry[2..], little) switch { 3 => 2, 4 or 13 => 4, _ => 0 }; // SHORT; LONG, IFD
            long n = ReadUInt32(entry[4..], little);
            if (size == 0 || n is < 1 or > MaxValues || !wanted.Contains(tag) || tags.ContainsKey(tag))
            {
                continue;
            }
            var raw = new byte[n * size];
            if (raw.Length <= 4)
            {
                entry.Slice(8, raw.Length).CopyTo(raw);
            }
            else
            {
                long valuesAt = ReadUInt32(entry[8..], little);
                Require(valuesAt + raw.Length <= length && RandomAccess.Read(handle, raw, valuesAt) == raw.Length, "cut values");
            }
            var values = new long[n];
            for (int i = 0; i < n; i++)
            {
                values[i] = size == 2 ? ReadUInt16(raw.AsSpan(i * 2), little) : ReadUInt32(raw.AsSpan(i * 4), little);
            }
            tags[tag] = values;
        }
        return new TiffIfd(little, tags);
    }

    private static int ReadUInt16(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16BigEndian(bytes);

    private static long ReadUInt32(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);

    /// <summary>Throws <c>unreadable image: <paramref name="reason"/></c> unless <paramref name="condition"/>.</summary>
    /// <exception cref="InvalidImageException">when <paramref name="condition"/> is false</exception>
    internal static void Require(bool condition, string reason)
    {
        if (!condition)
        {
            throw new InvalidImageException($"unreadable image: {reason}");
        }
    }
}

/// <summary>What <see cref="TiffHeader.Read"/> found in IFD0.</summary>
/// <param name="LittleEndian">true for <c>II</c> (Intel) byte order, false for <c>MM</c></param>
/// <param name="Tags">per wanted tag found, its values (at least one)</param>
internal sealed record TiffIfd(bool LittleEndian, IReadOnlyDictionary<int, long[]> Tags);
