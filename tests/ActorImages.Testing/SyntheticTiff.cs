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
    /// <returns>The file's bytes: a 126-byte header and directory, then the pixel data.</returns>
    public static byte[] OneRow(int width, int? pixelBytes = null)
    {
        // Header (8 bytes), then the directory: a count, 9 entries of 12 bytes, the next directory's offset (none).
        (ushort Tag, ushort Type, uint Value)[] entries =
        [
            (256, 4, (uint)width), // ImageWidth, LONG
            (257, 4, 1), // ImageLength
            (258, 3, 8), // BitsPerSample, SHORT
            (259, 3, 1), // Compression: none
            (262, 3, 1), // PhotometricInterpretation: BlackIsZero
            (273, 4, 0), // StripOffsets: set below
            (277, 3, 1), // SamplesPerPixel
            (278, 4, 1), // RowsPerStrip
            (279, 4, (uint)width), // StripByteCounts
        ];
        var dataOffset = 8 + 2 + entries.Length * 12 + 4;
        var data = pixelBytes ?? width;
        var tiff = new byte[dataOffset + data];
        var span = tiff.AsSpan();
        span[0] = (byte)'I';
        span[1] = (byte)'I';
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], 42);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], 8);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], (ushort)entries.Length);
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = span.Slice(10 + i * 12, 12);
            var (tag, type, value) = entries[i];
            BinaryPrimitives.WriteUInt16LittleEndian(entry, tag);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], type);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], 1);
            if (tag == 273) value = (uint)dataOffset;
            if (type == 3) BinaryPrimitives.WriteUInt16LittleEndian(entry[8..], (ushort)value);
            else BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], value);
        }
        for (var x = 0; x < data; x++) tiff[dataOffset + x] = (byte)(x >> 18);
        return tiff;
    }
}
