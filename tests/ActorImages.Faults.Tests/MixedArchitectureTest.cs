using System.Buffers.Binary;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// One cluster of an x86-64 node and an arm64 node (127.0.44.1–2, so both hold every image), the arm64 one a
/// self-contained <c>linux-arm64</c> publish of this source run under <c>qemu-aarch64</c> (Debian's <c>qemu-user</c>
/// and arm64 <c>libc6</c>, <c>libstdc++6</c>, <c>libssl3</c>; <c>.ci/run</c> installs them), as the Dockerfile's
/// multi-architecture base images run it on arm64 hosts. Images that enter either node through P1 or P2 are stored
/// byte-identical on both (commit: fsync, link, folder fsync; copies over the TLS replica channel); the arm64 node
/// makes a thumbnail (SkiaSharp's arm64 library) and answers P3 and P4; a read through it of an image whose copy there
/// is corrupt is served from the other node; and the scrub restores the corrupt copy in place (fsync, rename, folder
/// fsync). Until 9d77d1f the folder fsync opened folders with x86-64's
/// <c>O_DIRECTORY</c> value, <c>O_DIRECT</c> on arm64, and every commit there failed with EINVAL.
/// </summary>
public sealed class MixedArchitectureTest(ITestOutputHelper output) : IAsyncLifetime
{
    private const string X64 = "127.0.44.1";
    private const string Arm64 = "127.0.44.2";
    private const string PeerFrom = "127.0.44.9";
    private const ushort ElfMachineAarch64 = 183;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        try
        {
            var emulator = new[] { "/usr/bin/qemu-aarch64", "/lib/ld-linux-aarch64.so.1" }.FirstOrDefault(f => !File.Exists(f));
            Assert.True(emulator is null, $"{emulator} is missing: this test runs an arm64 node under qemu-user " +
                "(apt-get install qemu-user after dpkg --add-architecture arm64, with libc6:arm64 libstdc++6:arm64 libssl3:arm64; .ci/run does)");
            // Started in the background before the first class of the run, which this one ends (Arm64Publish).
            var publish = await Arm64Publish.ResultAsync();
            Assert.True(publish.Exit == 0, $"dotnet publish for linux-arm64: {publish.Describe()}");
            var node = Arm64Publish.Node;
            Assert.Equal(ElfMachineAarch64, ElfMachine(node));
            _cluster = await TestCluster.StartAsync([X64, Arm64],
                extra: new Dictionary<string, string> { ["ACTORIMAGES_SCRUB_PACE"] = "50ms" },
                // W^X off for the emulated node: .NET writes JIT-compiled code through a second, writable mapping of its
                // pages, which qemu-user does not see, so it may run a stale translation of the page (seen once in CI:
                // "Illegal instruction" in a compiled lambda, the node aborted at start). Emulators ask for this
                // (dotnet/runtime turns W^X off under Rosetta itself); a real arm64 host keeps W^X.
                command: i => i == 2 ? ["/usr/bin/env", "DOTNET_EnableWriteXorExecute=0", "/usr/bin/qemu-aarch64", "-L", "/", node] : null,
                timeout: TimeSpan.FromSeconds(150));
        }
        catch
        {
            // xUnit does not dispose a class whose InitializeAsync threw: the publish (280 MB) goes here.
            await Arm64Publish.DeleteAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        await Arm64Publish.DeleteAsync();
    }

    [Fact]
    public async Task AnArm64NodeStoresServesAndRestoresImagesBesideAnX64Node()
    {
        var arm = _cluster[2];
        var x64 = _cluster[1];
        output.WriteLine($"node 2 (arm64 under qemu) pid {arm.Pid}");

        // P1 into the arm64 node, P2 into the x86-64 one: each stored on both, byte-identical.
        var camera = TestImages.Bytes("rocket.jpg");
        Assert.True(await Wire.SendP1Async(Arm64, camera), $"the arm64 node stored the P1 frame\n{_cluster.Logs()}");
        var photo = TestImages.Bytes("chelsea.png");
        await Wire.UploadP2Async(X64, "chelsea.png", photo);
        foreach (var (bytes, md5) in new[] { (camera, Images.Md5(camera)), (photo, Images.Md5(photo)) })
        {
            await Poll.UntilAsync(TimeSpan.FromSeconds(30), $"{md5} held by both nodes",
                async () => (await Wire.HoldersAsync(X64, md5)).Order().SequenceEqual([X64, Arm64]));
            foreach (var node in _cluster.Nodes) ScrubTest.CopyOf(node.DataDir, bytes, _cluster);
            Assert.Equal(bytes, await Wire.GetP4Async(Arm64, md5));
        }

        // A thumbnail made on the arm64 node.
        var (status, thumbnail) = await Wire.GetBytesAsync(Arm64, $"/api/images/{Images.Md5(photo)}/thumbnail");
        Assert.True(status == 200, $"thumbnail from the arm64 node: {status}\n{_cluster.Logs()}");
        Assert.Equal([0xFF, 0xD8], thumbnail[..2]);
        Assert.True(File.Exists(arm.ThumbnailFile(Images.Md5(photo))));

        // P3 through both: a peer registered on the arm64 node is listed by the x86-64 one.
        var peerMd5 = new string('a', 32);
        Assert.Equal("OK 1_REGISTERED_IMAGES", await Wire.AskP3Async(Arm64, $"REG arm;pw 46044 '{peerMd5},peer.jpg'", PeerFrom));
        Assert.Contains(peerMd5, await Wire.AskP3Async(X64, "LST", PeerFrom));

        // The scrub restores a corrupt copy on the arm64 node in place, under the same name.
        var copy = ScrubTest.CopyOf(arm.DataDir, camera, _cluster);
        var corrupt = (byte[])camera.Clone();
        corrupt[corrupt.Length / 2] ^= 0x55;
        await File.WriteAllBytesAsync(copy, corrupt);
        // A read through the arm64 node meanwhile is served from the other holder, or, when that holder does not answer
        // within replication-timeout (under emulation the TLS handshake is slow), a 503 the client retries; never a
        // 500, which it answered once in four CI runs when a connect timeout escaped the reader (FrozenHolderTest).
        await Poll.UntilAsync(TimeSpan.FromSeconds(60), "the corrupt copy's image read through the arm64 node", async () =>
        {
            var (status, body) = await Wire.GetBytesAsync(Arm64, $"/api/images/{Images.Md5(camera)}/content");
            Assert.True(status is 200 or 503, $"status {status}\n{arm.Tail()}");
            return status == 200 && body.AsSpan().SequenceEqual(camera);
        });
        await Poll.UntilAsync(TimeSpan.FromSeconds(60), "the arm64 node's copy restored in place", () =>
            Task.FromResult(File.Exists(copy) && File.ReadAllBytes(copy).AsSpan().SequenceEqual(camera)));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(arm.DataDir, ".tmp")));
        Assert.True(await Wire.MetricAsync(Arm64, "actorimages_replica_copies_total{reason=\"scrub\",outcome=\"ok\"}") >= 1,
            $"the arm64 node counted its restore\n{_cluster.Logs()}");
        Assert.DoesNotContain("errno 22", arm.ReadLog());
    }

    /// <summary>The <c>e_machine</c> field of an ELF file (bytes 18–19, little-endian): 62 x86-64, 183 AArch64.</summary>
    private static ushort ElfMachine(string file)
    {
        var header = new byte[20];
        using (var stream = File.OpenRead(file)) stream.ReadExactly(header);
        Assert.Equal([0x7F, (byte)'E', (byte)'L', (byte)'F'], header[..4]);
        return BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(18));
    }
}
