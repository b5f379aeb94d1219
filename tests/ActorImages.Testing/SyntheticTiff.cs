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
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], (ushort)count);
        for (var i = 0; i < count; i++)
        {
            var entry = span.Slice(10 + i * 12, 12);
            if (i >= entries.Length)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(entry, extraTag ?? (ushort)(1000 + i - entries.Length));
                BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], 4);
                BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], (uint)extraValues);
                BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], (uint)valuesOffset);
                continue;
            }
            var (tag, type, value) = entries[i];
            BinaryPrimitives.WriteUInt16LittleEndian(entry, tag);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], type);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], 1);
            if (tag == 273) value = (uint)dataOffset;
            if (type == 3) BinaryPrimitives.WriteUInt16LittleEndian(entry[8..], (ushort)value);
            else BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], value);
        }
        for (var x = 0; x < Math.Min(data, width); x++) tiff[dataOffset + x] = (byte)(x >> 18);
        return tiff;
    }
}
