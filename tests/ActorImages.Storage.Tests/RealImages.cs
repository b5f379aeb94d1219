using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ActorImages.Testing;
using SkiaSharp;

namespace ActorImages.Storage.Tests;

/// <summary>A test image: its name, its bytes, and what the store must read from its header.</summary>
/// <remarks>
/// The images are built once per test process and shared by test classes that run in parallel, so <see cref="Bytes"/>
/// hands out a fresh copy: a test that flips a byte of its copy (BlobVerifierTests) once changed the array another
/// test was comparing a committed file against, and that test failed on a byte the store had written correctly.
/// </remarks>
public sealed record RealImage(string Name, ReadOnlyMemory<byte> Content, ImageFormat Format, int Width, int Height)
{
    /// <summary>A copy of the image's bytes, the caller's to change.</summary>
    public byte[] Bytes => Content.ToArray();

    public override string ToString() => Name;
}

/// <summary>
/// Every kind of real photo the store must take (issue 9): the files of testdata/images, and kinds made here at run
/// time from them with SkiaSharp or by hand where no file is shipped (see testdata/images/README.md).
/// </summary>
public static class RealImages
{
    private static readonly Lazy<IReadOnlyList<RealImage>> AllImages = new(Build);

    public static IReadOnlyList<RealImage> All => AllImages.Value;

    public static RealImage Get(string name) => All.Single(image => image.Name == name);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var image in All)
        {
            data.Add(image.Name);
        }
        return data;
    }

    private static IReadOnlyList<RealImage> Build()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var chelsea = TestImages.Bytes("chelsea.png");
        return
        [
            File("astronaut.png", ImageFormat.Png, 512, 512),
            File("chelsea.png", ImageFormat.Png, 451, 300),
            File("coffee.png", ImageFormat.Png, 600, 400),
            File("rocket.jpg", ImageFormat.Jpeg, 640, 427),
            File("rocket-progressive.jpg", ImageFormat.Jpeg, 640, 427),
            File("rocket-cmyk.jpg", ImageFormat.Jpeg, 320, 214),
            File("chelsea-animated.gif", ImageFormat.Gif, 96, 64),
            File("multipage_rgb.tif", ImageFormat.Tiff, 10, 10),
            File("chelsea.tif", ImageFormat.Tiff, 96, 64),
            File("rocket.heic", ImageFormat.Heic, 640, 427),
            File("rocket.avif", ImageFormat.Avif, 640, 427),
            File("gradient-thumbnail.heic", ImageFormat.Heic, 4032, 3024),
            new("rocket-motion-photo.jpg", MotionPhoto(rocket), ImageFormat.Jpeg, 640, 427),
            new("chelsea-after-iend.png", (byte[])[.. chelsea, .. "tEXt appended after IEND by an editor"u8], ImageFormat.Png,
                451, 300),
            new("chelsea-16bit.png", Png16(Crop()), ImageFormat.Png, 96, 64),
            new("chelsea.webp", Encode(Crop(), SKEncodedImageFormat.Webp), ImageFormat.WebP, 96, 64),
            new("chelsea.bmp", Bmp(Crop()), ImageFormat.Bmp, 96, 64),
        ];
    }

    private static RealImage File(string name, ImageFormat format, int width, int height) =>
        new(name, TestImages.Bytes(name), format, width, height);

    /// <summary>A 96×64 crop of chelsea.png: keeps the made files small.</summary>
    public static SKBitmap Crop()
    {
        using var chelsea = SKBitmap.Decode(TestImages.PathOf("chelsea.png"));
        var crop = new SKBitmap(new SKImageInfo(96, 64, SKColorType.Rgba8888, SKAlphaType.Premul));
        chelsea.ExtractSubset(crop, new SKRectI(150, 80, 246, 144));
        return crop.Copy();
    }

    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality = 90)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality);
        return data.ToArray();
    }

    /// <summary>A Google/Samsung-style motion photo: the JPEG, then a 2 MiB MP4 (ftyp and mdat boxes) after EOI.</summary>
    public static byte[] MotionPhoto(byte[] jpeg)
    {
        var ftyp = new byte[24];
        BinaryPrimitives.WriteInt32BigEndian(ftyp, ftyp.Length);
        "ftypmp42"u8.CopyTo(ftyp.AsSpan(4));
        "isommp42"u8.CopyTo(ftyp.AsSpan(16));
        var mdat = new byte[2 << 20];
        new Random(42).NextBytes(mdat);
        BinaryPrimitives.WriteInt32BigEndian(mdat, mdat.Length);
        "mdat"u8.CopyTo(mdat.AsSpan(4));
        return [.. jpeg, .. ftyp, .. mdat];
    }

    /// <summary>A PNG with 16 bits per channel, as scanners and photo editors write.</summary>
    public static byte[] Png16(SKBitmap bitmap)
    {
        using var wide = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba16161616,
            SKAlphaType.Premul));
        using (var canvas = new SKCanvas(wide))
        {
            canvas.DrawBitmap(bitmap, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
        }
        var png = Encode(wide, SKEncodedImageFormat.Png);
        // IHDR's bit depth byte: the test is worthless if the encoder quietly wrote 8 bits.
        if (png[24] != 16)
        {
            throw new InvalidOperationException($"the PNG encoder wrote {png[24]} bits per channel");
        }
        return png;
    }

    /// <summary>A 24-bit bottom-up BMP (BITMAPINFOHEADER, BI_RGB): SkiaSharp has no BMP encoder.</summary>
    public static byte[] Bmp(SKBitmap bitmap)
    {
        int rowBytes = (bitmap.Width * 3 + 3) & ~3;
        var bmp = new byte[54 + rowBytes * bitmap.Height];
        "BM"u8.CopyTo(bmp);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), bitmap.Width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), bitmap.Height);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(34), rowBytes * bitmap.Height);
        for (int y = 0; y < bitmap.Height; y++)
        {
            int row = 54 + (bitmap.Height - 1 - y) * rowBytes;
            for (int x = 0; x < bitmap.Width; x++)
            {
                var color = bitmap.GetPixel(x, y);
                bmp[row + x * 3] = color.Blue;
                bmp[row + x * 3 + 1] = color.Green;
                bmp[row + x * 3 + 2] = color.Red;
            }
        }
        return bmp;
    }

    /// <summary>
    /// A decode bomb: a real 16×16 JPEG whose SOF0 says <paramref name="width"/> × <paramref name="height"/>, a few
    /// hundred bytes that declare a gigabyte of pixels.
    /// </summary>
    public static byte[] JpegBomb(int width = 16000, int height = 16000)
    {
        using var small = new SKBitmap(16, 16);
        small.Erase(SKColors.SteelBlue);
        var jpeg = Encode(small, SKEncodedImageFormat.Jpeg);
        int sof = jpeg.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xFF, 0xC0]);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), (ushort)width);
        return jpeg;
    }

    /// <summary>rocket-progressive.jpg (640×427, progressive, three components at full resolution) whose SOF2 says
    /// <paramref name="width"/> × <paramref name="height"/>: 60 KB that libjpeg decodes into that many pixels' coefficients.</summary>
    public static byte[] ProgressiveJpegBomb(int width, int height)
    {
        var jpeg = TestImages.Bytes("rocket-progressive.jpg");
        int sof = jpeg.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xFF, 0xC2]);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), (ushort)width);
        return jpeg;
    }

    /// <summary>A HEIC bomb: rocket.heic whose <c>ispe</c> properties say <paramref name="width"/> ×
    /// <paramref name="height"/> (it has two: the coded image's, 640×428, and the primary image's, 640×427).</summary>
    public static byte[] HeicBomb(int width = 16000, int height = 16000)
    {
        var heic = TestImages.Bytes("rocket.heic");
        // The box's type, then version and flags (4 bytes), then width and height (32 bits each, big-endian).
        for (int at = 0, ispe; (ispe = heic.AsSpan(at).IndexOf("ispe"u8)) >= 0; at += ispe + 16)
        {
            BinaryPrimitives.WriteInt32BigEndian(heic.AsSpan(at + ispe + 8), width);
            BinaryPrimitives.WriteInt32BigEndian(heic.AsSpan(at + ispe + 12), height);
        }
        return heic;
    }

    /// <summary>gradient-thumbnail.heic (12 megapixels and a 512 × 384 thumbnail item) with its <c>thmb</c> reference
    /// renamed <c>xxxx</c>, a type no reader knows: the same file as one that carries no thumbnail.</summary>
    public static byte[] HeicWithoutThumbnail()
    {
        var heic = TestImages.Bytes("gradient-thumbnail.heic");
        "xxxx"u8.CopyTo(heic.AsSpan(heic.AsSpan().IndexOf("thmb"u8)));
        return heic;
    }

    /// <summary>
    /// The boxes an iPhone's HEIC opens with, without the coded tiles: <c>ftyp</c> (heic), then <c>meta</c> whose primary
    /// item (<c>pitm</c>, id 49) is a grid of 48 tiles of 512 × 512 (items 1–48, listed first in <c>ipma</c>) showing
    /// <paramref name="width"/> × <paramref name="height"/>; the grid and its tiles each have their own <c>ispe</c>, and
    /// the grid an <c>irot</c> of <paramref name="quarterTurns"/> × 90° anticlockwise (a portrait photo: 3).
    /// </summary>
    public static byte[] HeicGridHeader(int width, int height, int quarterTurns = 0)
    {
        static byte[] Box(string type, params byte[][] content)
        {
            var body = content.SelectMany(c => c).ToArray();
            return [.. BigEndian32(8 + body.Length), .. Encoding.ASCII.GetBytes(type), .. body];
        }
        static byte[] BigEndian32(int value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
        byte[] fullBox = [0, 0, 0, 0]; // version 0, flags 0
        var ispeTile = Box("ispe", fullBox, BigEndian32(512), BigEndian32(512));
        var ispeGrid = Box("ispe", fullBox, BigEndian32(width), BigEndian32(height));
        var irot = Box("irot", [(byte)(quarterTurns & 3)]);
        // ipma version 0, flags 0: a 16-bit item id, a count, then 7-bit property indices (1-based) behind the essential bit.
        var entries = Enumerable.Range(1, 48).SelectMany(id => (byte[])[0, (byte)id, 1, 0x81])
            .Concat((byte[])[0, 49, 2, 2, 0x83]).ToArray();
        var ipma = Box("ipma", fullBox, BigEndian32(49), entries);
        var meta = Box("meta", fullBox,
            Box("hdlr", fullBox, BigEndian32(0), "pict"u8.ToArray(), new byte[13]),
            Box("pitm", fullBox, [0, 49]),
            Box("iprp", Box("ipco", ispeTile, ispeGrid, irot), ipma));
        return [.. Box("ftyp", "heic"u8.ToArray(), BigEndian32(0), "mif1heic"u8.ToArray()), .. meta, .. Box("mdat")];
    }

    /// <summary>A PNG bomb: IHDR 16000×16000 RGBA, one tiny IDAT, IEND; valid CRCs.</summary>
    public static byte[] PngBomb()
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, 16000);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), 16000);
        ihdr[8] = 8;
        ihdr[9] = 6;
        byte[] idat = [0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01];
        return [0x89, .. "PNG\r\n\u001a\n"u8, .. Chunk("IHDR", ihdr), .. Chunk("IDAT", idat), .. Chunk("IEND", [])];
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }
        return ~crc;
    }

    /// <summary>
    /// A JPEG of <paramref name="segments"/> APP1 Exif segments and a start of frame for 16×16 grey pixels, without any
    /// scan (SkiaSharp refuses it, the probe reads its frame). Each segment's IFD0 has 5,000 LONG tags whose counts
    /// each claim the whole 60 KB directory as their values: 300 million values per segment, in 60 KB.
    /// </summary>
    public static byte[] ExifDirectoryBomb(int segments)
    {
        const int tags = 5000;
        var tiff = new byte[8 + 2 + tags * 12 + 4];
        "II*\0"u8.CopyTo(tiff);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(8), tags);
        for (int i = 0; i < tags; i++)
        {
            var entry = tiff.AsSpan(10 + i * 12);
            BinaryPrimitives.WriteUInt16LittleEndian(entry, (ushort)(1000 + i));
            BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], 4);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], (uint)(tiff.Length - 8) / 4);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], 8);
        }
        byte[] app1 = [0xFF, 0xE1, .. BigEndian16(2 + 6 + tiff.Length), .. "Exif\0\0"u8, .. tiff];
        byte[] sof0 = [0xFF, 0xC0, .. BigEndian16(11), 8, .. BigEndian16(16), .. BigEndian16(16), 1, 1, 0x11, 0];
        return [0xFF, 0xD8, .. Enumerable.Repeat(app1, segments).SelectMany(s => s), .. sof0, 0xFF, 0xD9];
    }

    private static byte[] BigEndian16(int value) => [(byte)(value >> 8), (byte)value];

    public static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

/// <summary>A fresh folder under the system temp folder, deleted with its contents on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("actorimages-storage-").FullName;

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public string Write(string name, byte[] bytes)
    {
        var file = Combine(name);
        File.WriteAllBytes(file, bytes);
        return file;
    }

    public static IReadOnlyList<string> List(string dir) =>
        Directory.Exists(dir)
            ? Directory.EnumerateFileSystemEntries(dir).Select(entry => System.IO.Path.GetFileName(entry))
                .Order(StringComparer.Ordinal).ToList()
            : [];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
