namespace ActorImages.Storage.Tests;

public class ImageFormatTests
{
    [Theory]
    [InlineData("ffd8ffe000104a4649460001", ImageFormat.Jpeg)]
    [InlineData("ffd8ffe1", ImageFormat.Jpeg)]
    [InlineData("89504e470d0a1a0a0000000d", ImageFormat.Png)]
    [InlineData("474946383761", ImageFormat.Gif)]
    [InlineData("474946383961", ImageFormat.Gif)]
    [InlineData("424d36300000", ImageFormat.Bmp)]
    [InlineData("52494646240000005745425056503820", ImageFormat.WebP)]
    [InlineData("49492a0008000000", ImageFormat.Tiff)]
    [InlineData("4d4d002a00000008", ImageFormat.Tiff)]
    [InlineData("000000186674797068656963", ImageFormat.Heic)] // ftyp heic: an iPhone's photo
    [InlineData("0000001c6674797068656978", ImageFormat.Heic)] // heix: 10-bit HEVC
    [InlineData("000000186674797068657663", ImageFormat.Heic)] // hevc: an image sequence (a burst)
    [InlineData("00000018667479706d696631", ImageFormat.Heif)] // mif1: HEIF naming no codec
    [InlineData("0000001c6674797061766966", ImageFormat.Avif)]
    [InlineData("0000001c6674797061766973", ImageFormat.Avif)] // avis: an AVIF sequence
    public void SniffRecognisesEachMagicNumber(string headHex, ImageFormat expected)
    {
        Assert.Equal(expected, ImageFormats.Sniff(Convert.FromHexString(headHex)));
    }

    [Theory]
    [InlineData("plain text", "48656c6c6f2c20776f726c6421")]
    [InlineData("RIFF WAVE audio", "524946462400000057415645666d7420")]
    [InlineData("GIF with an unknown version", "474946393061")]
    [InlineData("PNG signature cut short", "89504e470d0a1a")]
    [InlineData("JPEG SOI without a marker", "ffd800")]
    [InlineData("PDF", "255044462d312e370a")]
    [InlineData("ZIP", "504b030414000000")]
    [InlineData("MP4", "0000001866747970")]
    [InlineData("MP4 with its brand", "00000018667479706d703432")]
    [InlineData("QuickTime video", "000000146674797071742020")]
    [InlineData("HEIF brand without ftyp", "0000001866726565" + "68656963")]
    [InlineData("TIFF byte order with the wrong magic", "49492b00")]
    [InlineData("nothing", "")]
    public void SniffRejectsEverythingElse(string what, string headHex)
    {
        Assert.True(ImageFormats.Sniff(Convert.FromHexString(headHex)) is null, what);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(11)]
    public void WebPNeedsTwelveBytesToBeRecognised(int length)
    {
        var head = "RIFF\0\0\0\0WEBPVP8 "u8.ToArray();
        Assert.Null(ImageFormats.Sniff(head.AsSpan(0, length)));
        Assert.Equal(ImageFormat.WebP, ImageFormats.Sniff(head.AsSpan(0, ImageFormats.SniffBytes)));
    }

    [Theory]
    [InlineData(ImageFormat.Jpeg, "jpg", "image/jpeg")]
    [InlineData(ImageFormat.Png, "png", "image/png")]
    [InlineData(ImageFormat.Gif, "gif", "image/gif")]
    [InlineData(ImageFormat.Bmp, "bmp", "image/bmp")]
    [InlineData(ImageFormat.WebP, "webp", "image/webp")]
    [InlineData(ImageFormat.Tiff, "tif", "image/tiff")]
    [InlineData(ImageFormat.Heic, "heic", "image/heic")]
    [InlineData(ImageFormat.Heif, "heif", "image/heif")]
    [InlineData(ImageFormat.Avif, "avif", "image/avif")]
    public void EachFormatHasItsExtensionAndMediaType(ImageFormat format, string extension, string mediaType)
    {
        Assert.Null(ImageFormats.FromMediaType("video/mp4"));
        Assert.Equal(extension, format.Extension());
        Assert.Equal(mediaType, format.MediaType());
        Assert.Equal(format, ImageFormats.FromMediaType(mediaType));
        // Thumbnails of every format; of the HEIF family through libheif's heif-thumbnailer, which .ci/run installs
        // (ThumbnailerTests).
        Assert.True(HeifThumbnailer.IsAvailable);
        Assert.True(Thumbnailer.Decodes(format));
    }
}
