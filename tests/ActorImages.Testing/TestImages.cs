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
