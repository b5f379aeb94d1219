using System.Buffers.Binary;

namespace ActorImages.Testing;

/// <summary>Baseline TIFFs made in memory, for sizes no test file should have.</summary>
public static class SyntheticTiff
{
    /// <summary>A baseline TIFF (little-endian, uncompressed, one strip): one row of <paramref name="width"/> 8-bit
    /// grey pixels, a gradient.</summary>
    /// <param name="width">Pixels in the row, one byte each.</param>
    /// <param name="pixelBytes">Bytes of pixel data actually written: <paramref name="width"/> (the default) for a
    /// valid file, fewer for one whose header claims more than it holds.</param>
    /// <param name="orientation">The Orientation tag's value (TIFF 6.0 tag 274, 1 to 8; 6: turn 90° clockwise to
    /// view), or null for none (shown as stored).</param>
    /// <returns>The file's bytes: a 126-byte header and directory (138 with an orientation), then the pixel data.</returns>
    public static byte[] OneRow(int width, int? pixelBytes = null, ushort? orientation = null) =>
        Build(width, pixelBytes ?? width, 0, 0, null, orientation);

    /// <summary>
    /// A one-row TIFF as <see cref="OneRow"/> whose first directory also has <paramref name="tags"/> entries of
    /// <paramref name="values"/> LONG values each, all pointing at the same block of zeros after the pixels: counts that
    /// claim tags × values × 4 bytes of a file that holds values × 4, as hostile files do (a reader that reads every
    /// tag's values works that much).
    /// </summary>
    /// <param name="width">Pixels in the row, one byte each.</param>
    /// <param name="tags">Extra directory entries, at most 65,000.</param>
    /// <param name="values">LONG values each extra entry claims, at least 2 (so they lie outside the entry).</param>
    /// <param name="tag">The tag number of every extra entry, or null for 1000, 1001, … (tags no reader here wants).</param>
    /// <returns>The file's bytes: header, directory, pixels, then <paramref name="values"/> × 4 zero bytes.</returns>
    public static byte[] WithLongTags(int width, int tags, int values, ushort? tag = null) =>
        Build(width, width, tags, values, tag, null);

    /// <summary>
    /// A camera raw file's layout (DNG 1.4, NEF): IFD0 a one-row grey preview of <paramref name="previewWidth"/> pixels
    /// (as <see cref="OneRow"/>, readable by the thumbnail decoder) marked reduced-resolution (NewSubfileType 1), whose
    /// SubIFDs tag (330, type IFD) points first at a reduced preview — 64 × 48 without pixels, or
    /// <paramref name="jpegPreview"/> as a JPEG-compressed strip (a DNG's) or stream (a NEF's) — then at the raw image's
    /// directory of <paramref name="rawWidth"/> × <paramref name="rawHeight"/> (NewSubfileType 0; no pixel data, which
    /// only a raw decoder would read).
    /// </summary>
    /// <param name="previewWidth">Pixels in IFD0's one row.</param>
    /// <param name="rawWidth">The raw directory's ImageWidth.</param>
    /// <param name="rawHeight">The raw directory's ImageLength.</param>
    /// <param name="crop">The raw directory's DefaultCropSize (DNG tag 50720, two LONGs), or null for none.</param>
    /// <param name="orientation">IFD0's Orientation (1 to 8), or null for none.</param>
    /// <param name="rawAt">Where the raw directory claims to be instead, for a cut file (e.g. past its end); null for
    /// where it is.</param>
    /// <param name="jpegPreview">A JPEG file's bytes for the first SubIFD, or null for none.</param>
    /// <param name="interchangeFormat">true: the JPEG as TIFF 6.0's JPEGInterchangeFormat (513/514, compression 6, as
    /// a NEF's preview); false: as the single strip of a compression-7 YCbCr image (a DNG's).</param>
    /// <returns>The file's bytes: header, IFD0, the preview's row, the SubIFDs' offsets, the two SubIFDs, then the
    /// DefaultCropSize values and the JPEG.</returns>
    public static byte[] RawWithPreview(int previewWidth, uint rawWidth, uint rawHeight, (uint Width, uint Height)? crop = null,
        ushort? orientation = null, uint? rawAt = null, byte[]? jpegPreview = null, bool interchangeFormat = false)
    {
        var preview = Build(previewWidth, previewWidth, 0, 0, null, orientation);
        var previewEntries = BinaryPrimitives.ReadUInt16LittleEndian(preview.AsSpan(8));
        // IFD0 again, with NewSubfileType first and SubIFDs last (ascending tags), the pixels and the rest after it.
        int ifd0Count = previewEntries + 2;
        int pixelsAt = 8 + 2 + ifd0Count * 12 + 4;
        int offsetsAt = pixelsAt + previewWidth;
        int reducedAt = offsetsAt + 8;
        int rawDirectoryAt = reducedAt + 2 + (jpegPreview is null ? 3 : 7) * 12 + 4;
        int rawCount = crop is null ? 3 : 4;
        int cropAt = rawDirectoryAt + 2 + rawCount * 12 + 4;
        int jpegAt = cropAt + 8;
        var file = new byte[jpegAt + (jpegPreview?.Length ?? 0)];
        var span = file.AsSpan();
        preview.AsSpan(0, 8).CopyTo(span);
        var entries = new List<(ushort Tag, ushort Type, uint Count, uint Value)> { (254, 4, 1, 1) };
        for (int i = 0; i < previewEntries; i++)
        {
            var entry = preview.AsSpan(10 + i * 12, 12);
            ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(entry), type = BinaryPrimitives.ReadUInt16LittleEndian(entry[2..]);
            uint value = type == 3 ? BinaryPrimitives.ReadUInt16LittleEndian(entry[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
            entries.Add((tag, type, 1, tag == 273 ? (uint)pixelsAt : value));
        }
        entries.Add((330, 13, 2, (uint)offsetsAt));
        WriteDirectory(span, 8, entries);
        preview.AsSpan(preview.Length - previewWidth).CopyTo(span[pixelsAt..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[offsetsAt..], (uint)reducedAt);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(offsetsAt + 4)..], rawAt ?? (uint)rawDirectoryAt);
        uint jpegLength = (uint)(jpegPreview?.Length ?? 0);
        WriteDirectory(span, reducedAt, jpegPreview is null
            ? [(254, 4, 1, 1), (256, 4, 1, 64), (257, 4, 1, 48)]
            :
            [
                (254, 4, 1, 1), (256, 4, 1, 640), (257, 4, 1, 427), (259, 3, 1, interchangeFormat ? 6u : 7u), (262, 3, 1, 6),
                .. interchangeFormat
                    ? new (ushort, ushort, uint, uint)[] { (513, 4, 1, (uint)jpegAt), (514, 4, 1, jpegLength) }
                    : [(273, 4, 1, (uint)jpegAt), (279, 4, 1, jpegLength)],
            ]);
        jpegPreview?.CopyTo(span[jpegAt..]);
        WriteDirectory(span, rawDirectoryAt,
        [
            (254, 4, 1, 0), (256, 4, 1, rawWidth), (257, 4, 1, rawHeight),
            .. crop is null ? Array.Empty<(ushort, ushort, uint, uint)>() : [(50720, 4, 2, (uint)cropAt)],
        ]);
        if (crop is { } size)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[cropAt..], size.Width);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(cropAt + 4)..], size.Height);
        }
        return file;
    }

    /// <summary>Writes a little-endian directory at <paramref name="at"/>: the count, the entries (SHORT values in the
    /// first two bytes of the value field), no next directory.</summary>
    private static void WriteDirectory(Span<byte> file, int at, IReadOnlyList<(ushort Tag, ushort Type, uint Count, uint Value)> entries)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(file[at..], (ushort)entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            var (tag, type, count, value) = entries[i];
            var entry = file.Slice(at + 2 + i * 12, 12);
            BinaryPrimitives.WriteUInt16LittleEndian(entry, tag);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], type);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], count);
            if (type == 3 && count == 1) BinaryPrimitives.WriteUInt16LittleEndian(entry[8..], (ushort)value);
            else BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], value);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(file[(at + 2 + entries.Count * 12)..], 0);
    }

    private static byte[] Build(int width, int data, int extraTags, int extraValues, ushort? extraTag, ushort? orientation)
    {
        // Header (8 bytes), then the directory: a count, its entries of 12 bytes (in ascending tag order), the next
        // directory's offset (none).
        (ushort Tag, ushort Type, uint Value)[] entries =
        [
            (256, 4, (uint)width), // ImageWidth, LONG
            (257, 4, 1), // ImageLength
            (258, 3, 8), // BitsPerSample, SHORT
            (259, 3, 1), // Compression: none
            (262, 3, 1), // PhotometricInterpretation: BlackIsZero
            (273, 4, 0), // StripOffsets: set below
            .. orientation is { } turn ? [(274, 3, turn)] : Array.Empty<(ushort, ushort, uint)>(), // Orientation
            (277, 3, 1), // SamplesPerPixel
            (278, 4, 1), // RowsPerStrip
            (279, 4, (uint)width), // StripByteCounts
        ];
        var count = entries.Length + extraTags;
        var dataOffset = 8 + 2 + count * 12 + 4;
        var valuesOffset = dataOffset + data;
        var tiff = new byte[valuesOffset + (extraTags > 0 ? extraValues * 4 : 0)];
        var span = tiff.AsSpan();
        span[0] = (byte)'I';
        span[1] = (byte)'I';
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], 42);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], 8);
        var directory = entries.Select(e => (e.Tag, e.Type, 1u, e.Tag == 273 ? (uint)dataOffset : e.Value)).ToList();
        for (var i = 0; i < extraTags; i++)
            directory.Add((extraTag ?? (ushort)(1000 + i), 4, (uint)extraValues, (uint)valuesOffset));
        WriteDirectory(span, 8, directory);
        for (var x = 0; x < Math.Min(data, width); x++) tiff[dataOffset + x] = (byte)(x >> 18);
        return tiff;
    }
}
