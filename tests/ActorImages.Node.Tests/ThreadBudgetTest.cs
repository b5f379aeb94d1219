using ActorImages.Node.Config;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>The thread pool's bound under a pids limit (src/ActorImages.Node/Config/ThreadBudget.cs; README "Limits and
/// security"). A node started in a control group with a limit is PidsLimitTest (Faults).</summary>
public sealed class ThreadBudgetTest
{
    [Fact]
    public void ALimitLeavesThePoolWhatOtherTasksAndTheReserveDoNotTake()
    {
        // 96 tasks, 25 in use of which 4 are the pool's, 2 processors: 21 outside the pool, 12 kept back.
        Assert.Equal(63, ThreadBudget.Fit(96, 25, 4, 2, 2, 32_767, out var message));
        Assert.Equal("the pids limit of this node's control group (96 tasks) leaves 63 for the thread pool (21 in use " +
            "outside it, 12 kept for threads made on demand): at most 63 worker threads instead of 32767, as a thread " +
            "the limit refuses would end the node", message);
        Assert.Equal(8 + 2 * 16, ThreadBudget.Reserve(16));
    }

    [Fact]
    public void ALimitThatLeavesMoreThanThePoolsMaximumChangesNothing()
    {
        Assert.Null(ThreadBudget.Fit(4_194_304, 30, 4, 2, 2, 32_767, out var message));
        Assert.Null(message);
        Assert.Null(ThreadBudget.Fit(100, 30, 4, 2, 2, 50, out _));
    }

    [Fact]
    public void ALimitTooLowForThePoolsMinimumKeepsTheMinimumAndSaysWhatToRaiseItTo()
    {
        // 30 tasks, 25 in use (4 the pool's): 30 - 21 - 12 < 0; the pool keeps its minimum of 2.
        Assert.Equal(2, ThreadBudget.Fit(30, 25, 4, 2, 2, 32_767, out var message));
        Assert.EndsWith("; the limit is too low for the pool's minimum of 2: raise it to at least 41", message);
        Assert.Contains("leaves 0 for the thread pool", message);
    }

    [Fact]
    public void TheBoundFollowsTheLimitAndIgnoresSmallDriftsOfTheOtherTasks()
    {
        // The first read of a limit of 96 tasks, 25 in use (4 the pool's), 2 processors: 63 workers, as Fit says.
        var first = ThreadBudget.Next((96, 25), null, 4, 2, 2, 32_767, 32_767);
        Assert.Equal(63, first?.Maximum);
        Assert.StartsWith("the pids limit of this node's control group (96 tasks) leaves 63", first?.Message);
        // Same limit, 3 more tasks outside the pool: less than half the reserve of 12, left as it is.
        Assert.Null(ThreadBudget.Next((96, 28), 96, 4, 2, 2, 32_767, 63));
        // Same limit, 6 more: half the reserve, followed.
        Assert.Equal(57, ThreadBudget.Next((96, 31), 96, 4, 2, 2, 32_767, 63)?.Maximum);
        // A new limit is always followed, however small the move.
        Assert.Equal(64, ThreadBudget.Next((97, 25), 96, 4, 2, 2, 32_767, 63)?.Maximum);
        Assert.Equal(167, ThreadBudget.Next((200, 25), 96, 4, 2, 2, 32_767, 63)?.Maximum);
        // No limit any more, or one that leaves more than the runtime's maximum: back to it.
        Assert.Equal((32_767, "this node's control group has no pids limit any more: back to 32767 worker threads"),
            ThreadBudget.Next(null, 200, 4, 2, 2, 32_767, 167));
        Assert.Equal((32_767, "the pids limit of this node's control group (4194304 tasks) leaves the thread pool its " +
            "maximum again: back to 32767 worker threads"), ThreadBudget.Next((4_194_304, 25), 96, 4, 2, 2, 32_767, 63));
        // Nothing to do without a limit, or when the bound is in effect already.
        Assert.Null(ThreadBudget.Next(null, null, 4, 2, 2, 32_767, 32_767));
        Assert.Null(ThreadBudget.Next((96, 25), 96, 4, 2, 2, 32_767, 63));
    }

    [Fact]
    public void TheGroupIsFoundInACgroupV1PidsHierarchy()
    {
        // As /proc/self/cgroup and /proc/self/mountinfo read on a machine with cgroup v1 controllers.
        string[] cgroup = ["9:name=systemd:/", "8:pids:/aif-pids-limit", "4:memory:/process_api/7630", "0::/"];
        string[] mountinfo =
        [
            "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
            "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
            "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
        ];
        Assert.Equal(("/sys/fs/cgroup/pids/aif-pids-limit", "/sys/fs/cgroup/pids"), ThreadBudget.CgroupDirectory(cgroup, mountinfo));
        // In a container without a cgroup namespace of its own, the path is the host's and the mount's root its prefix.
        string[] container = ["8:pids:/docker/0123abcd", "0::/"];
        string[] containerMounts = ["612 598 0:35 /docker/0123abcd /sys/fs/cgroup/pids ro,nosuid - cgroup cgroup rw,pids"];
        Assert.Equal(("/sys/fs/cgroup/pids", "/sys/fs/cgroup/pids"), ThreadBudget.CgroupDirectory(container, containerMounts));
        // No pids controller: no group, no limit.
        Assert.Null(ThreadBudget.CgroupDirectory(["4:memory:/a", "0::/"], mountinfo));
    }

    [Fact]
    public void TheGroupIsFoundInTheCgroupV2HierarchyWhenItHasThePidsController()
    {
        var root = Directory.CreateTempSubdirectory("actorimages-cgroup2-");
        try
        {
            File.WriteAllText(Path.Combine(root.FullName, "cgroup.controllers"), "cpuset cpu io memory pids\n");
            string[] mountinfo = [$"27 22 0:26 / {root.FullName} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate"];
            Assert.Equal((Path.Combine(root.FullName, "system.slice/app.service"), root.FullName),
                ThreadBudget.CgroupDirectory(["0::/system.slice/app.service"], mountinfo));
            File.WriteAllText(Path.Combine(root.FullName, "cgroup.controllers"), "cpuset cpu io memory\n");
            Assert.Null(ThreadBudget.CgroupDirectory(["0::/system.slice/app.service"], mountinfo));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
