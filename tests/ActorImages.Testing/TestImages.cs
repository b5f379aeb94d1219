using System.Buffers.Binary;

namespace ActorImages.Testing;

/// <summary>
/// The repository's real test images, <c>testdata/images</c> (origin and licence of each in its README.md), found
/// from wherever a test assembly runs by walking up to the folder that holds <c>ActorImages.sln</c>.
/// </summary>
public static class TestImages
{
    private static readonly Lazy<string> Folder = new(Locate);

    /// <summary>The absolute path of <c>testdata/images</c>.</summary>
    /// <exception cref="DirectoryNotFoundException">no enclosing folder holds <c>ActorImages.sln</c> and
    /// <c>testdata/images</c></exception>
    public static string Directory => Folder.Value;

    /// <summary>The absolute path of <c>testdata/images/&lt;name&gt;</c>.</summary>
    /// <param name="name">a file name, such as <c>rocket.jpg</c></param>
    public static string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>The bytes of <c>testdata/images/&lt;name&gt;</c>.</summary>
    /// <param name="name">a file name, such as <c>rocket.jpg</c></param>
    /// <exception cref="FileNotFoundException">no such test image</exception>
    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    /// <summary>Width and height in pixels from the start-of-frame segment of <paramref name="jpeg"/> (ITU-T T.81,
    /// B.2.2: height, then width, 16 bits each).</summary>
    /// <param name="jpeg">a whole JPEG file</param>
    /// <exception cref="InvalidDataException">not a JPEG, or no start-of-frame segment before its end</exception>
    public static (int Width, int Height) JpegSize(byte[] jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) throw new InvalidDataException("not a JPEG");
        var i = 2;
        while (i + 9 < jpeg.Length && jpeg[i] == 0xFF)
        {
            var marker = jpeg[i + 1];
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                return (BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 7)), BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 5)));
            i += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 2));
        }
        throw new InvalidDataException("no start-of-frame segment in the JPEG");
    }

    /// <summary>
    /// <paramref name="jpeg"/> with an APP1 Exif segment right after its APP0 (JFIF) segment, holding only IFD0 with
    /// the Orientation tag (0x0112, SHORT) set to <paramref name="orientation"/>; big-endian TIFF header.
    /// </summary>
    /// <param name="jpeg">a JPEG whose first segment is APP0 (JFIF), such as <c>rocket.jpg</c></param>
    /// <param name="orientation">1 to 8 (TIFF 6.0 tag 274; 6: turn 90° clockwise to view)</param>
    /// <returns>the new file's bytes</returns>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        var exif = new byte[2 + 2 + 6 + 8 + 2 + 12 + 4];
        exif[0] = 0xFF;
        exif[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(exif.AsSpan(2), (ushort)(exif.Length - 2));
        "Exif\0\0MM"u8.CopyTo(exif.AsSpan(4));
        BinaryPrimitives.WriteUInt16BigEndian(exif.AsSpan(12), 42);
        BinaryPrimitives.WriteUInt32BigEndian(exif.AsSpan(14), 8);
        BinaryPrimitives.WriteUInt16BigEndian(exif.AsSpan(18), 1);
        BinaryPrimitives.WriteUInt16BigEndian(exif.AsSpan(20), 0x0112);
        BinaryPrimitives.WriteUInt16BigEndian(exif.AsSpan(22), 3);
        BinaryPrimitives.WriteUInt32BigEndian(exif.AsSpan(24), 1);
        BinaryPrimitives.WriteUInt16BigEndian(exif.AsSpan(28), (ushort)orientation);
        int app0End = 4 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(4));
        return [.. jpeg.AsSpan(0, app0End), .. exif, .. jpeg.AsSpan(app0End)];
    }

    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var images = Path.Combine(dir.FullName, "testdata", "images");
            if (File.Exists(Path.Combine(dir.FullName, "ActorImages.sln")) && System.IO.Directory.Exists(images))
            {
                return images;
            }
        }
        throw new DirectoryNotFoundException($"no testdata/images above {AppContext.BaseDirectory}");
    }
}
