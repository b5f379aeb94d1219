namespace ActorImages.Faults.Tests;

/// <summary>The entry point of <c>bin/faults</c>: <c>dotnet ActorImages.Faults.Tests.dll faults ROOT</c>. The test
/// runner never calls it; the scenarios' helpers (P2 clients, images, polling) are shared with the tests.</summary>
public static class Program
{
    /// <summary>Runs <see cref="FaultsDriver"/>.</summary>
    /// <param name="args"><c>faults [repository root]</c>.</param>
    /// <returns>0 when nothing acknowledged was lost, 1 when something was or a step failed, 2 on a usage error.</returns>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length is < 1 or > 2 || args[0] != "faults")
        {
            await Console.Error.WriteLineAsync("usage: dotnet ActorImages.Faults.Tests.dll faults [REPOSITORY-ROOT]");
            return 2;
        }
        return await FaultsDriver.RunAsync(Path.GetFullPath(args.Length > 1 ? args[1] : "."));
    }
}
