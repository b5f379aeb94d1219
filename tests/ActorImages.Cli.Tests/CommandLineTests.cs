using System.Net;
using System.Net.Sockets;
using Xunit;

namespace ActorImages.Cli.Tests;

/// Parsing and exit codes, without a node: usage errors are 2, local file problems 4, refused connections 3.
public class CommandLineTests
{
    private const string Md5 = "0cc175b9c0f1b6a831c399e269772661";

    [Fact]
    public async Task HelpListsTheCommandsAndTheExitCodes()
    {
        var result = await Cli.RunAsync("--help");
        Assert.Equal(Exit.Ok, result.Code);
        foreach (string command in new[] { "send", "upload", "list", "download", "view", "register", "peers", "get", "query", "import" })
        {
            Assert.Contains(command, result.Out);
        }
        Assert.Contains("70  a bug in the CLI", result.Out);
        Assert.Equal(Exit.Ok, (await Cli.RunAsync("get", "--help")).Code);
    }

    public static TheoryData<string[]> UsageErrors => new()
    {
        Array.Empty<string>(),
        new[] { "bogus" },
        new[] { "send" },
        new[] { "get" },
        new[] { "get", "xyz" },
        new[] { "get", Md5, "--from", "nowhere" },
        new[] { "get", Md5, "--from", "h:99999" },
        new[] { "list", "--no-such-option" },
        new[] { "list", "--timeout", "abc" },
        new[] { "list", "--timeout", "0" },
        new[] { "query" },
        new[] { "query", "image", "not-an-md5" },
        new[] { "query", "images", "--limit", "0" },
        new[] { "register", ".", "--password", "with space" },
        new[] { "register", ".", "--bind", "not-an-ip" },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public async Task UsageErrorsAreExitCode2WithAHint(string[] args)
    {
        var result = await Cli.RunAsync(args);
        Assert.True(result.Code == Exit.Usage, result.ToString());
        Assert.StartsWith("actorimages: ", result.Err);
        Assert.Contains("--help'.", result.Err);
    }

    [Fact]
    public async Task LocalFileProblemsAreExitCode4()
    {
        using var empty = Cli.TempFolder();
        File.WriteAllBytes(Path.Combine(empty.Path, "zero.jpg"), []);
        Assert.Equal(Exit.LocalFile, (await Cli.RunAsync("send", Path.Combine(Cli.Images, "not-an-image.txt"))).Code);
        Assert.Equal(Exit.LocalFile, (await Cli.RunAsync("send", Path.Combine(empty.Path, "missing.jpg"))).Code);
        Assert.Equal(Exit.LocalFile, (await Cli.RunAsync("send", Path.Combine(empty.Path, "zero.jpg"))).Code);
        Assert.Equal(Exit.LocalFile, (await Cli.RunAsync("upload", Path.Combine(empty.Path, "missing.jpg"))).Code);
        Assert.Equal(Exit.LocalFile, (await Cli.RunAsync("register", Path.Combine(empty.Path, "no-such-dir"))).Code);
        var noFolder = await Cli.RunAsync("get", Md5, "--from", "127.0.0.1:1", "-o", Path.Combine(empty.Path, "nope"));
        Assert.Equal(Exit.LocalFile, noFolder.Code);
        Assert.Contains("no such folder", noFolder.Err);
    }

    [Fact]
    public async Task ARefusedConnectionIsExitCode3NamingTheEndpoint()
    {
        int closed = ClosedPort();
        string port = closed.ToString();
        var send = await Cli.RunAsync("send", Path.Combine(Cli.Images, "rocket.jpg"), "--p1-port", port);
        Assert.Equal(Exit.Connection, send.Code);
        Assert.Contains($"connection refused: 127.0.0.1:{port}", send.Err);
        Assert.Equal(Exit.Connection, (await Cli.RunAsync("list", "--p2-port", port)).Code);
        Assert.Equal(Exit.Connection, (await Cli.RunAsync("query", "cluster", "--http-port", port)).Code);
        Assert.Equal(Exit.Connection, (await Cli.RunAsync("peers", "--p3-port", port)).Code);
        using var folder = Cli.TempFolder();
        var get = await Cli.RunAsync("get", Md5, "--from", "127.0.0.1:" + port, "-o", folder.Path);
        Assert.Equal(Exit.Connection, get.Code);
        Assert.Empty(folder.Files());
    }

    [Fact]
    public async Task AnUnknownHostIsExitCode3()
    {
        var result = await Cli.RunAsync("list", "--node", "no-such-host.invalid");
        Assert.Equal(Exit.Connection, result.Code);
        Assert.Contains("no-such-host.invalid", result.Err);
    }

    /// A port nothing listens on: bound, then released.
    internal static int ClosedPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
