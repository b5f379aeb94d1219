namespace ActorImages.Testing;

/// <summary>Where the node build that process tests run lives: the same configuration (Debug or Release) as the test
/// assembly, built by the test project's reference to <c>src/ActorImages.Node</c>.</summary>
public static class NodeBinaries
{
    /// <summary>The absolute path of <c>ActorImages.Node.dll</c>.</summary>
    /// <exception cref="FileNotFoundException">The node was not built.</exception>
    public static string Dll
    {
        get
        {
            // Test assemblies run from tests/<project>/bin/<Configuration>/net10.0/.
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent?.Name ?? "Debug";
            var dll = Path.Combine(RepoPaths.Root, "src", "ActorImages.Node", "bin", configuration, "net10.0", "ActorImages.Node.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"the node is not built: {dll}");
        }
    }
}
