using System.Runtime.CompilerServices;
using ActorImages.Testing;

// Each test class runs a real cluster of node processes (and kills, partitions and restarts it); on two cores they
// run one class at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
// MixedArchitectureTest last, its arm64 publish meanwhile in the background (Arm64Publish).
[assembly: Xunit.TestCollectionOrderer("ActorImages.Faults.Tests.Arm64PublishFirst", "ActorImages.Faults.Tests")]

namespace ActorImages.Faults.Tests;

/// <summary>One run of this assembly per machine (<see cref="MachineLock"/>): its classes bind fixed addresses, so a
/// second test run on the machine waits for this one's instead of colliding with it.</summary>
internal static class AssemblyLock
{
#pragma warning disable CA2255 // a test assembly is the application here: the lock must be held before its first test
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Acquire() => MachineLock.Acquire(typeof(AssemblyLock).Assembly.GetName().Name!);
}
