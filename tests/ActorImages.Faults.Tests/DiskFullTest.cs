using System.Diagnostics;
using System.Net;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>A fact that needs to mount a tmpfs: skipped, saying why, where it cannot (not root).</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> unless <see cref="Tmpfs.Available"/>.</summary>
    public TmpfsFactAttribute()
    {
        if (!Tmpfs.Available()) Skip = "needs root to mount a tmpfs";
    }
}

/// <summary>A size-limited tmpfs mounted on a folder for the length of a test: a disk that fills.</summary>
public sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Whether a tmpfs can be mounted here (tries one of 64 KiB).</summary>
    /// <returns>True when root may mount.</returns>
    public static bool Available()
    {
        var probe = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"actorimages-tmpfs-probe-{Guid.NewGuid():N}");
        Directory.CreateDirectory(probe);
        try
        {
            if (!Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe)) return false;
            Run("umount", probe);
            return true;
        }
        finally
        {
            Directory.Delete(probe);
        }
    }

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> on <paramref name="path"/>, created when missing.</summary>
    /// <param name="path">The folder.</param>
    /// <param name="bytes">Its size in bytes.</param>
    /// <returns>The mount; dispose it to unmount.</returns>
    /// <exception cref="InvalidOperationException">mount failed.</exception>
    public static Tmpfs Mount(string path, long bytes)
    {
        Directory.CreateDirectory(path);
        if (!Run("mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path))
            throw new InvalidOperationException("cannot mount a tmpfs on " + path);
        return new Tmpfs(path);
    }

    /// <summary>Unmounts (lazily, should a process still hold a file in it).</summary>
    public void Dispose() => Run("umount", "-l", Path);

    private static bool Run(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in command.Skip(1)) info.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(info)!;
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            return process.WaitForExit(10_000) && process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

/// <summary>
/// A node's disk fills (README "Failure and recovery"): node 2 of a real 2-node cluster (127.0.93.1–2, replication
/// factor 2) keeps its data on a 1 MiB tmpfs. Uploads through node 1 are acknowledged until node 2 has no room for a
/// copy, then refused with the protocol's error (its replica PUT answers 507); uploads through node 2 itself are
/// refused clearly on every protocol — P2 <c>Falha no upload: no space left on this node's disk</c>, P1 a reset,
/// HTTP 507 — never a dropped session or an orderly close that looks stored; no partial file stays behind; both nodes
/// keep running; and every acknowledged image is byte-identical on both.
/// </summary>
public sealed class DiskFullTest(ITestOutputHelper output) : IAsyncLifetime
{
    private const long Disk = 1 << 20;
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"actorimages-diskfull-{Guid.NewGuid():N}");
    private Tmpfs? _disk;
    private TestCluster? _cluster;

    public async Task InitializeAsync()
    {
        if (!Tmpfs.Available()) return;
        _disk = Tmpfs.Mount(Path.Combine(_root, "node-2", "data"), Disk);
        _cluster = await TestCluster.StartAsync(["127.0.93.1", "127.0.93.2"], root: _root);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        _disk?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // a lazily unmounted folder may still be busy for a moment; the temp folder is the system's to clean
        }
    }

    /// <summary>A valid PNG header and pixels, then 300,000 bytes of noise after its end (as a camera's trailer):
    /// about a third of node 2's disk.</summary>
    private static byte[] Large(int seed)
    {
        var tail = new byte[300_000];
        new Random(seed).NextBytes(tail);
        return [.. Images.Png(seed), .. tail];
    }

    [TmpfsFact]
    public async Task AFullDiskRefusesUploadsClearlyOnEveryProtocolAndLosesNothingAcknowledged()
    {
        var cluster = _cluster!;
        var acknowledged = new List<byte[]>();
        string? refusal = null;
        await using (var p2 = await Wire.P2.ConnectAsync(cluster[1].Host))
        {
            await p2.CommandAsync("AUTH", "diskfull");
            for (var i = 0; i < 12 && refusal is null; i++)
            {
                var image = Large(9300 + i);
                var reply = await p2.UploadAsync($"large-{i}.png", image);
                if (reply.GetProperty("status").GetString() == "SUCCESS") acknowledged.Add(image);
                else refusal = reply.GetProperty("message").GetString();
            }
        }
        output.WriteLine($"{acknowledged.Count} acknowledged through node 1, then: {refusal}");
        Assert.NotNull(refusal);
        Assert.StartsWith("Falha no upload: ", refusal);
        Assert.Contains("507", refusal);
        Assert.InRange(acknowledged.Count, 1, 3);

        var next = Large(9400);
        await using (var p2 = await Wire.P2.ConnectAsync(cluster[2].Host))
        {
            await p2.CommandAsync("AUTH", "diskfull");
            var reply = await p2.UploadAsync("on-node-2.png", next);
            Assert.Equal("ERROR", reply.GetProperty("status").GetString());
            Assert.Equal("Falha no upload: no space left on this node's disk", reply.GetProperty("message").GetString());
            // The session goes on: the next command is answered.
            Assert.Equal("SUCCESS", (await p2.CommandAsync("LIST")).GetProperty("status").GetString());
        }

        Assert.False(await Wire.SendP1Async(cluster[2].Host, next), "a P1 frame node 2 could not store must end with a reset");

        using (var http = new HttpClient { BaseAddress = cluster[2].HttpBase })
        {
            using var response = await http.PostAsync("api/images?filename=http.png", new ByteArrayContent(next));
            Assert.Equal((HttpStatusCode)507, response.StatusCode);
            Assert.Contains("no space left", await response.Content.ReadAsStringAsync());
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(cluster[2].DataDir, ".tmp")));
        Assert.True(cluster.Nodes.All(n => n.IsRunning), cluster.Logs());
        // Exactly what was acknowledged is listed: nothing refused, nothing lost.
        var listed = await Wire.ListedAsync(cluster[1].Host);
        Assert.Equal(acknowledged.Select(Images.Md5).Order(), (listed ?? []).Order());
        foreach (var image in acknowledged)
        {
            foreach (var node in cluster.Nodes)
            {
                var (status, body) = await Wire.GetBytesAsync(node.Host, $"/api/images/{Images.Md5(image)}/content");
                Assert.Equal(200, status);
                Assert.Equal(image, body);
            }
        }
    }
}
