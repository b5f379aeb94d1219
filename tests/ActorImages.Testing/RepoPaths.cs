namespace ActorImages.Testing;

/// <summary>Paths inside the repository, found from wherever the test assembly runs (its bin folder).</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The repository root: the nearest folder above the test assembly that holds <c>ActorImages.sln</c>.</summary>
    /// <exception cref="DirectoryNotFoundException">No folder above the assembly holds <c>ActorImages.sln</c>.</exception>
    public static string Root => RootPath.Value;

    /// <summary>A path under the repository root.</summary>
    /// <param name="parts">'/'-free path segments, e.g. <c>"bin", "postgres"</c>.</param>
    /// <returns>The absolute path.</returns>
    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ActorImages.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No ActorImages.sln above {AppContext.BaseDirectory}");
    }
}
