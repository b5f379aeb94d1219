using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>
/// Which exceptions end the node (src/ActorImages.Node/OutOfMemoryPolicy.cs). A thread that cannot start is shown on
/// a real node out of descriptors by DescriptorLimitTest (Faults); here, real exceptions as the runtime throws them.
/// </summary>
public sealed class OutOfMemoryPolicyTest
{
    [Fact]
    public void AnAllocationOverTheLimitEndsTheProcess()
    {
        // A string longer than the runtime allows fails at once, whatever memory is free.
        var thrown = Assert.Throws<OutOfMemoryException>(() => new string('x', int.MaxValue));
        Assert.NotEqual(typeof(Thread), thrown.TargetSite?.DeclaringType);
        Assert.True(OutOfMemoryPolicy.EndsTheProcess(thrown));
        Assert.True(OutOfMemoryPolicy.EndsTheProcess(new InsufficientMemoryException()));
    }

    [Fact]
    public void OtherExceptionsDoNot()
    {
        Assert.False(OutOfMemoryPolicy.EndsTheProcess(new IOException("Too many open files")));
        Assert.False(OutOfMemoryPolicy.EndsTheProcess(new InvalidOperationException()));
    }
}
