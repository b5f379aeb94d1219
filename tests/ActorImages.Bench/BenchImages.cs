using System.Security.Cryptography;
using System.Text;

namespace ActorImages.Bench;

/// <summary>
/// The images the load sends: real photos from <c>testdata/images</c>, each made distinct without re-encoding (the
/// load generator shares the cores with the nodes): a JPEG gets a <c>COM</c> segment naming it right after its SOI
/// marker; a PNG gets a trailer after its <c>IEND</c> chunk (a label, then padding up to the wanted size).
/// </summary>
internal sealed class BenchImages
{
    private readonly string _folder;

    private BenchImages(string folder) => _folder = folder;

    /// <summary>The images of <c>&lt;root&gt;/testdata/images</c>.</summary>
    public static BenchImages In(string root)
    {
        string folder = Path.Combine(root, "testdata", "images");
        return Directory.Exists(folder) ? new BenchImages(folder) : throw new DirectoryNotFoundException(folder);
    }

    /// <summary>The bytes of one test image.</summary>
    public byte[] Read(string name) => File.ReadAllBytes(Path.Combine(_folder, name));

    /// <summary>The ~100 KB JPEG photos the P1 cameras send (rocket.jpg, ~110 KB, and its progressive twin).</summary>
    public IReadOnlyList<byte[]> CameraJpegs() => [Read("rocket.jpg"), Read("rocket-progressive.jpg")];

    /// <summary>A ~900 KB PNG: astronaut.png (~790 KB) with random padding after IEND, the same for every image.</summary>
    public byte[] LargePng(int size = 900_000)
    {
        byte[] png = Read("astronaut.png");
        var padded = new byte[Math.Max(size, png.Length)];
        png.CopyTo(padded, 0);
        new Random(20261202).NextBytes(padded.AsSpan(png.Length)); // noise: no deflate can shrink it
        return padded;
    }

    /// <summary><paramref name="jpeg"/> with a <c>COM</c> segment holding <paramref name="label"/> right after SOI.</summary>
    public static byte[] JpegWithComment(byte[] jpeg, string label)
    {
        byte[] text = Encoding.ASCII.GetBytes(label);
        var image = new byte[jpeg.Length + 4 + text.Length];
        image[0] = 0xFF;
        image[1] = 0xD8;
        image[2] = 0xFF;
        image[3] = 0xFE;
        image[4] = (byte)((text.Length + 2) >> 8);
        image[5] = (byte)(text.Length + 2);
        text.CopyTo(image, 6);
        jpeg.AsSpan(2).CopyTo(image.AsSpan(6 + text.Length));
        return image;
    }

    /// <summary>The text written over the start of a <see cref="LargePng"/>'s padding to make it distinct: a line naming
    /// <paramref name="label"/> (P2Uploads).</summary>
    public static string Trailer(string label) => "\nactorimages-bench " + label + "\n";

    /// <summary>Lowercase hex MD5.</summary>
    public static string Md5(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));
}
