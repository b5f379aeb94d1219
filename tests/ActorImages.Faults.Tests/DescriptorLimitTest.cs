using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// A node out of file descriptors (127.0.45.1, started under <c>prlimit --nofile=1024:1024</c>, about 330 in use when
/// idle) while 1,000 idle P1 connections are held open: its P1 accept loop fails with EMFILE, logs it once and tries
/// again every 100 ms (AcceptLoop.Pause, src/ActorImages.Protocols) instead of failing again at once — which held both cores and
/// wrote over 90,000 log lines in 5 s. An upload that connects meanwhile waits in the listen backlog and is stored once
/// the held connections close, and the node logs that it accepts again.
/// </summary>
public sealed class DescriptorLimitTest(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Host = "127.0.45.1";
    private const int Descriptors = 1024;
    private const int Held = 1_000;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync([Host],
        extra: new Dictionary<string, string> { ["ACTORIMAGES_REPLICATION_FACTOR"] = "1" },
        launcher: _ => ["prlimit", $"--nofile={Descriptors}:{Descriptors}"]);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task AnAcceptLoopOutOfDescriptorsPausesInsteadOfSpinningAndAcceptsAgainOnceTheyAreFree()
    {
        var node = _cluster[1];
        var pid = node.Pid!.Value;
        Assert.Contains($"Max open files            {Descriptors}", await File.ReadAllTextAsync($"/proc/{pid}/limits"));

        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < Held; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                held.Add(socket);
                await socket.ConnectAsync(IPAddress.Parse(Host), 5001);
            }
            await Poll.UntilAsync(TimeSpan.FromSeconds(20), "the node's accept failing for want of descriptors",
                () => Task.FromResult(AcceptFailures(node) > 0));

            // An upload now waits in the backlog.
            var image = Images.Png(45);
            var upload = Wire.SendP1Async(Host, image);
            var cpuBefore = Cpu(pid);
            var clock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(3));
            var cores = (Cpu(pid) - cpuBefore) / clock.Elapsed;
            output.WriteLine($"while out of descriptors: the node used {cores:0.00} cores, logged {AcceptFailures(node)} accept failure line(s)");
            Assert.Equal(1, AcceptFailures(node));
            Assert.False(upload.IsCompleted, "the upload was answered while the node had no descriptor for it");

            foreach (var socket in held) socket.Dispose();
            held.Clear();
            Assert.True(await upload, $"the upload that waited in the backlog was stored\n{node.Tail()}");
            await Poll.UntilAsync(TimeSpan.FromSeconds(15), "the waiting upload listed",
                async () => (await Wire.HoldersAsync(Host, Images.Md5(image))).Contains(Host));
            Assert.Contains("accepting again after", node.ReadLog());
        }
        finally
        {
            foreach (var socket in held) socket.Dispose();
        }
    }

    private static int AcceptFailures(NodeProcess node) =>
        node.ReadLog().Split('\n').Count(line => line.Contains("TcpIngestGateway") && line.Contains("accept failed"));

    private static TimeSpan Cpu(int pid)
    {
        using var process = Process.GetProcessById(pid);
        return process.TotalProcessorTime;
    }
}
