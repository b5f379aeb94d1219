using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ActorImages.Faults.Tests;

/// <summary>
/// The self-contained <c>linux-arm64</c> publish of this source that <see cref="MixedArchitectureTest"/> runs under
/// qemu: about a minute of both cores, which used to be a minute of the suite. <see cref="Arm64PublishFirst"/> starts
/// it before the first test class when that test is in the run, at idle CPU and I/O priority (SCHED_IDLE through
/// <c>chrt</c>, <c>ionice</c> class 3, both from util-linux, inherited by the compilers it starts) so that it takes only
/// the time the other classes leave unused and does not slow their nodes; that test runs last and waits for what is
/// left of it. Its own artifacts folder: the repository's <c>obj/</c> and <c>bin/</c>, which the other tests' nodes run
/// from, stay as built.
/// </summary>
internal static class Arm64Publish
{
    /// <summary>The folder of the publish (about 280 MB), which <see cref="MixedArchitectureTest"/> deletes
    /// (<see cref="DeleteAsync"/>).</summary>
    public static string Folder { get; } = Path.Combine(Path.GetTempPath(), $"actorimages-arm64-{Guid.NewGuid():N}");

    private static readonly Lazy<Task<ChildProcess.Result>> Run = new(() => ChildProcess.RunAsync(TimeSpan.FromMinutes(20),
        RepoPaths.Root, "chrt", "--idle", "0", "ionice", "-c", "3",
        "dotnet", "publish", "src/ActorImages.Node", "-c", "Release", "-r", "linux-arm64", "--self-contained",
        // No build server: one started at normal priority would compile for it.
        "-nodeReuse:false", "-p:UseSharedCompilation=false",
        "--artifacts-path", Path.Combine(Folder, "artifacts"), "-o", Path.Combine(Folder, "node")));

    /// <summary>The published node's executable.</summary>
    public static string Node => Path.Combine(Folder, "node", "ActorImages.Node");

    /// <summary>Starts the publish unless it has started.</summary>
    public static void Start() => _ = Run.Value;

    /// <summary>The publish's exit status and output, once it has ended (started now if it had not).</summary>
    /// <returns>The result.</returns>
    /// <exception cref="TimeoutException">It ran over 20 minutes from its start and was killed.</exception>
    public static Task<ChildProcess.Result> ResultAsync() => Run.Value;

    /// <summary>Deletes <see cref="Folder"/> once the publish has ended, whatever its outcome: a test that fails before
    /// it needs the publish (the emulator missing) must not leave a publish writing into a folder nobody deletes.</summary>
    /// <returns>A task that completes when the folder is gone.</returns>
    public static async Task DeleteAsync()
    {
        if (Run.IsValueCreated)
        {
            try
            {
                await Run.Value;
            }
            catch (Exception e) when (e is TimeoutException or System.ComponentModel.Win32Exception)
            {
                // killed after its 20 minutes, or never started: nothing writes into the folder any more
            }
        }
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }
}

/// <summary>The order of this assembly's test classes: xUnit's default, but for <see cref="MixedArchitectureTest"/>,
/// which goes last, with its <see cref="Arm64Publish"/> started before the first class when it is in the run.</summary>
public sealed class Arm64PublishFirst : ITestCollectionOrderer
{
    /// <inheritdoc />
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var ordered = new DefaultTestCollectionOrderer().OrderTestCollections(testCollections).ToList();
        // A class without a [Collection] is a collection of its own, "Test collection for <its full name>".
        var arm64 = ordered.Where(c => c.DisplayName.EndsWith(typeof(MixedArchitectureTest).FullName!, StringComparison.Ordinal)).ToList();
        if (arm64.Count > 0) Arm64Publish.Start();
        return [.. ordered.Except(arm64), .. arm64];
    }
}
