using System.Text;
using ActorImages.Cli.Commands;
using Xunit;

namespace ActorImages.Cli.Tests;

/// The CLI's plain functions alone: host:port, safe names, image sniffing, seed-003 error text.
public class UnitTests
{
    [Fact]
    public void HostPortIsParsedAtTheLastColon()
    {
        Assert.Equal(new Endpoint("127.0.0.2", 13378), Endpoint.Parse("127.0.0.2:13378"));
        Assert.Equal(new Endpoint("[::1]", 80), Endpoint.Parse("[::1]:80"));
        Assert.Throws<FormatException>(() => Endpoint.Parse("nowhere"));
        Assert.Throws<FormatException>(() => Endpoint.Parse("h:70000"));
        Assert.Throws<FormatException>(() => Endpoint.Parse("h:x"));
        Assert.Throws<FormatException>(() => Endpoint.Parse("h:-1"));
        Assert.Throws<FormatException>(() => Endpoint.Parse(":80"));
    }

    [Theory]
    [InlineData("a.jpg", "a.jpg")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("dir\\evil.png", "evil.png")]
    [InlineData("..", "download")]
    [InlineData("", "download")]
    [InlineData("x/", "download")]
    public void NamesFromTheNetworkStayInsideTheFolder(string name, string safe) => Assert.Equal(safe, Destination.SafeName(name));

    [Theory]
    [InlineData("ffd8ffe0", "jpg")]
    [InlineData("89504e470d0a1a0a", "png")]
    [InlineData("474946383961", "gif")]
    [InlineData("424d", "bmp")]
    [InlineData("524946460000000057454250", "webp")]
    [InlineData("49492a00", "tif")]
    [InlineData("4d4d002a", "tif")]
    [InlineData("000000186674797068656963", "heic")]
    [InlineData("00000018667479706d696631", "heif")]
    [InlineData("0000001c6674797061766966", "avif")]
    [InlineData("00000018667479706d703432", null)] // an MP4 video
    [InlineData("3c68746d6c3e", null)]
    [InlineData("ff", null)]
    public void ImagesAreRecognisedByTheirFirstBytes(string hex, string? extension) =>
        Assert.Equal(extension, ImageFiles.Extension(Convert.FromHexString(hex)));

    [Fact]
    public void RealPhotographsAreImagesAndTextIsNot()
    {
        Assert.True(ImageFiles.IsImage(Path.Combine(Cli.Images, "rocket.jpg")));
        Assert.True(ImageFiles.IsImage(Path.Combine(Cli.Images, "multipage_rgb.tif")));
        Assert.True(ImageFiles.IsImage(Path.Combine(Cli.Images, "rocket.heic")));
        Assert.True(ImageFiles.IsImage(Path.Combine(Cli.Images, "rocket.avif")));
        Assert.False(ImageFiles.IsImage(Path.Combine(Cli.Images, "not-an-image.txt")));
    }

    [Fact]
    public void Seed003ErrorTextIsToldApartFromImageBytes()
    {
        byte[] error = Encoding.ASCII.GetBytes("ERR File not found");
        Assert.Equal("ERR File not found", new P4Client.Received(error.Length, "x", error).ErrorText());
        Assert.Null(new P4Client.Received(100_000, "x", error).ErrorText());
    }

    [Theory]
    [InlineData("a;b.jpg", "a_b.jpg")]
    [InlineData("a\tb.jpg", "a_b.jpg")]
    [InlineData("fotó, 1.jpg", "fotó, 1.jpg")]
    public void RegisteredNamesAreOnesTheTrackerAccepts(string name, string listed) => Assert.Equal(listed, PeerCommands.ListableName(name));

    [Fact]
    public void TablesPadAllButTheLastColumn()
    {
        var text = new StringWriter();
        new Table("A", "LONGER").Add("xyz", "1").Add(null, "22").Print(text);
        Assert.Equal("A    LONGER\nxyz  1\n-    22\n", text.ToString().ReplaceLineEndings("\n"));
    }
}
