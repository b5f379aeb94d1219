namespace ActorImages.Storage.Tests;

public class BlobPathsTests
{
    [Theory]
    [InlineData("2026-11-22T14:30:05.750Z", 0, "2026-11-22/143005.png")]
    [InlineData("2026-11-22T14:30:05.750Z", 1, "2026-11-22/143005-1.png")]
    [InlineData("2026-11-22T14:30:05.750Z", 12, "2026-11-22/143005-12.png")]
    [InlineData("2026-11-22T23:59:59.999Z", 0, "2026-11-22/235959.png")]
    [InlineData("2026-11-23T00:00:00Z", 0, "2026-11-23/000000.png")]
    [InlineData("2027-01-01T09:08:07+02:00", 0, "2027-01-01/070807.png")]
    [InlineData("2026-12-02T01:30:00-03:00", 0, "2026-12-02/043000.png")]
    public void DayFolderAndFileNameAreTheUtcTimeOfReceipt(string received, int suffix, string expected)
    {
        var at = DateTimeOffset.Parse(received, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected, BlobPaths.RelativePath(BlobPaths.Day(at), BlobPaths.StoredName(at, ImageFormat.Png, suffix)));
    }

    [Fact]
    public void EachFormatNamesItsOwnExtension()
    {
        var at = DateTimeOffset.Parse("2026-12-02T06:24:23Z", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("062423-1.jpg", BlobPaths.StoredName(at, ImageFormat.Jpeg, 1));
        Assert.Equal("062423.webp", BlobPaths.StoredName(at, ImageFormat.WebP, 0));
        Assert.Equal("062423.tif", BlobPaths.StoredName(at, ImageFormat.Tiff, 0));
    }

    [Fact]
    public void ANegativeSuffixOrAPartWithASeparatorIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BlobPaths.StoredName(DateTimeOffset.UnixEpoch, ImageFormat.Png, -1));
        Assert.Throws<ArgumentException>(() => BlobPaths.RelativePath("2026-12-02", "../x.jpg"));
        Assert.Throws<ArgumentException>(() => BlobPaths.RelativePath("..", "x.jpg"));
        Assert.Throws<ArgumentException>(() => BlobPaths.RelativePath("", "x.jpg"));
    }
}
