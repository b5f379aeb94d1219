using System.Text;
using System.Text.RegularExpressions;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>The 2-node cluster of <see cref="LegacyClientsTest"/> on 127.0.30.1–2, started only when a Python that
/// can import websockets exists (otherwise every test fails naming the install command).</summary>
public sealed class LegacyClientsCluster() : ClusterFixture(subnet: 30, count: 2)
{
    /// <summary>A folder for the clients' files, removed afterwards.</summary>
    public string Work { get; } = Directory.CreateTempSubdirectory("actorimages-legacy-clients-").FullName;

    /// <inheritdoc />
    public override async Task InitializeAsync()
    {
        if (LegacyPython.Interpreter is not null) await base.InitializeAsync();
    }

    /// <inheritdoc />
    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Work, recursive: true);
    }
}

/// <summary>
/// The legacy clients, as the Python programs of <c>legacy-clients/</c> that do on the wire what docs/protocols.md says
/// the students' clients do, against a real 2-node cluster on 127.0.30.1–2, each image crossing from one protocol and
/// node to another: P1 → P2, P2 → P3/P4, and a seed-003 peer → a seed-002 peer through the tracker. The peers bind
/// 127.0.30.58 (seed 003) and 127.0.30.59 (seed 002).
/// </summary>
public sealed class LegacyClientsTest(LegacyClientsCluster fixture) : IClassFixture<LegacyClientsCluster>
{
    private static readonly TimeSpan Run = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(15);
    private const string Seed003Ip = "127.0.30.58";
    private const string Seed002Ip = "127.0.30.59";

    /// <summary>A seed-002/003 <c>--list</c> line: <c>[i] name | md5 | donos: ip:port, ip:port</c>.</summary>
    private static readonly Regex LstLine = new(@"^\[\d+\] (.*) \| ([0-9a-f]{32}) \| donos: (.*)$", RegexOptions.Multiline);

    private TestCluster Cluster => LegacyPython.Interpreter is null
        ? throw new InvalidOperationException("no Python for the legacy clients: " + LegacyPython.Why) : fixture.Cluster;

    [Fact]
    public async Task CameraImageOnNodeOneIsListedAndDownloadedBySeed001OnNodeTwo()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var sent = await LegacyPython.RunAsync(Run, "seed000_camera_client.py", Cluster[1].Host, TestImages.PathOf("rocket.jpg"));
        Assert.True(sent.Exit == 0, sent.Describe());
        Assert.True(sent.Output.Contains("servidor fechou, 0 bytes recebidos"), sent.Describe());

        // The P1 image has a server-made name (HHMMSS.jpg) and uploader tcp:<ip>: find it through LIST.
        var last = "";
        var name = await Poll.ValueAsync(Soon, "seed001 LIST on node 2 showing the P1 image", async () =>
        {
            var list = await Seed001(2, "bob", "list");
            Assert.True(list.Exit == 0, list.Describe());
            last = list.Output;
            var m = Regex.Match(list.Output, @"^- (\d{6}(-\d+)?\.jpg) \| uploader: tcp:", RegexOptions.Multiline);
            return m.Success ? m.Groups[1].Value : null;
        }, () => last + "\n" + Cluster.Logs());

        foreach (var mode in new[] { "download", "view" })
        {
            var into = Folder("seed001-" + mode);
            var got = await Seed001(2, "bob", mode, name, into);
            Assert.True(got.Exit == 0, got.Describe());
            Assert.True(got.Output.Contains($"Transferência de {name} concluída."), got.Describe());
            Assert.Equal(rocket, await File.ReadAllBytesAsync(Path.Combine(into, name)));
        }

        // An unknown name is an ERROR reply the client prints, and nothing is saved.
        var none = Folder("seed001-unknown");
        var missing = await Seed001(2, "bob", "download", "no-such.jpg", none);
        Assert.True(missing.Exit == 1, missing.Describe());
        Assert.True(missing.Output.Contains("Erro: Arquivo nao encontrado."), missing.Describe());
        Assert.Empty(Directory.GetFileSystemEntries(none));
    }

    [Fact]
    public async Task Seed001UploadOnNodeTwoIsDownloadedBySeed002OnNodeOneFromTheFirstHolder()
    {
        var coffee = TestImages.Bytes("coffee.png");
        var md5 = Images.Md5(coffee);
        var up = await Seed001(2, "alice", "upload", TestImages.PathOf("coffee.png"));
        Assert.True(up.Exit == 0, up.Describe());
        Assert.True(up.Output.Contains("Upload de coffee.png concluído. ID: "), up.Describe());

        var seed002Dir = Folder("seed002-coffee");
        var item = await Poll.ValueAsync(Soon, "seed002 LST on node 1 listing coffee.png", () => LstItem(seed002Dir, md5));
        Assert.Equal("coffee.png", item.Name);
        var first = item.Holders.Split(", ")[0];
        Assert.True(first == $"{Cluster[1].Host}:13378" || first == $"{Cluster[2].Host}:13378",
            "first holder of a cluster image is a node's P4 endpoint: " + item.Holders);

        var got = await Seed002(seed002Dir, "--download", md5);
        Assert.True(got.Exit == 0, got.Describe());
        Assert.True(got.Output.Contains($"Baixando coffee.png de {first}"), "from the first holder: " + got.Describe());
        Assert.Equal(coffee, await File.ReadAllBytesAsync(Path.Combine(seed002Dir, "coffee.png")));

        // A second download must not overwrite the first (docs/protocols.md, P4): coffee_downloaded.png.
        var again = await Seed002(seed002Dir, "--download", md5);
        Assert.True(again.Exit == 0, again.Describe());
        Assert.Equal(coffee, await File.ReadAllBytesAsync(Path.Combine(seed002Dir, "coffee_downloaded.png")));
    }

    [Fact]
    public async Task Seed003PeerOnNodeTwoServesChelseaToSeed002OnNodeOne()
    {
        var chelsea = TestImages.Bytes("chelsea.png");
        var md5 = Images.Md5(chelsea);
        var shared = Folder("seed003");
        await File.WriteAllBytesAsync(Path.Combine(shared, "chelsea.png"), chelsea);
        var seed002Dir = Folder("seed002-chelsea");

        await using (var peer = LegacyPython.Start("seed003_peer_client.py", "--bind", Seed003Ip, Cluster[2].Host, shared, "--register"))
        {
            var portLine = await peer.AwaitLineAsync(Soon, "with the peer's port", l => l.StartsWith("Servidor TCP na porta "));
            var endpoint = Seed003Ip + ":" + portLine["Servidor TCP na porta ".Length..].Trim();
            await peer.AwaitLineAsync(Soon, "OK 1_REGISTERED_IMAGES", l => l == "Servidor: OK 1_REGISTERED_IMAGES");

            // Registered through node 2, listed by node 1 with the peer as (only, hence first) holder.
            var item = await Poll.ValueAsync(Soon, "seed002 LST on node 1 listing chelsea.png", () => LstItem(seed002Dir, md5));
            Assert.Equal("chelsea.png", item.Name);
            Assert.Equal(endpoint, item.Holders.Split(", ")[0]);

            var got = await Seed002(seed002Dir, "--download", md5);
            Assert.True(got.Exit == 0, got.Describe());
            Assert.True(got.Output.Contains($"Baixando chelsea.png de {endpoint}"), got.Describe());
            Assert.Equal(chelsea, await File.ReadAllBytesAsync(Path.Combine(seed002Dir, "chelsea.png")));

            // The reconstruction's own quirk (docs/protocols.md, P4): an unknown md5 gets text, not a bare close.
            var hostPort = endpoint.Split(':');
            Assert.Equal("ERR File not found", Encoding.ASCII.GetString(
                await RawWire.GetP4Async(hostPort[0], int.Parse(hostPort[1]), new string('0', 32))));

            var finished = await peer.FinishAsync(Run);
            Assert.True(finished.Exit == 0, finished.Describe());
            Assert.True(finished.Output.Contains("Servidor: OK CLIENT_FINISHED"), finished.Describe());
        }
        await Poll.UntilAsync(Soon, "chelsea.png gone from LST after the peer's END",
            async () => await LstItem(seed002Dir, md5) is null);
    }

    /// <summary>The seed-002 client with an empty folder sends <c>REG &lt;pw&gt; &lt;port&gt; </c>, a trailing space and
    /// no list (docs/protocols.md, P3): it registers with 0 images, and its END is answered.</summary>
    [Fact]
    public async Task Seed002WithNoImageRegistersZeroImages()
    {
        var empty = Folder("seed002-empty");
        await using var peer = LegacyPython.Start("seed002_peer_client.py", "--bind", "127.0.30.60", Cluster[2].Host, empty, "--register");
        await peer.AwaitLineAsync(Soon, "OK 0_REGISTERED_IMAGES", l => l == "Resposta do servidor: OK 0_REGISTERED_IMAGES");
        var finished = await peer.FinishAsync(Run);
        Assert.True(finished.Exit == 0, finished.Describe());
        Assert.True(finished.Output.Contains("Resposta do servidor: OK CLIENT_FINISHED"), finished.Describe());
    }

    private sealed record Listed(string Name, string Holders);

    /// <summary>The seed-002 client's <c>--list</c> on node 1: name and holders of <paramref name="md5"/>, or null.</summary>
    private async Task<Listed?> LstItem(string seed002Dir, string md5)
    {
        var list = await Seed002(seed002Dir, "--list");
        Assert.True(list.Exit == 0 || list.Output.Contains("ERR NO_IMAGES_AVAILABLE"), list.Describe());
        return LstLine.Matches(list.Output).Where(m => m.Groups[2].Value == md5)
            .Select(m => new Listed(m.Groups[1].Value, m.Groups[3].Value)).FirstOrDefault();
    }

    private Task<ChildProcess.Result> Seed002(string folder, params string[] action) =>
        LegacyPython.RunAsync(Run, "seed002_peer_client.py", ["--bind", Seed002Ip, Cluster[1].Host, folder, .. action]);

    private Task<ChildProcess.Result> Seed001(int node, string user, params string[] command) =>
        LegacyPython.RunAsync(Run, "seed001_client.py", [$"ws://{Cluster[node].Host}:8765/", user, .. command]);

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(fixture.Work, name)).FullName;
}
