using System.Globalization;

namespace ActorImages.Bench;

/// <summary>bin/bench's command line.</summary>
/// <param name="Root">The repository root (bin/bench passes it).</param>
/// <param name="Seconds">Timed window per scenario.</param>
/// <param name="Warmup">Untimed load before each timed window.</param>
/// <param name="Scenarios">Which of refs, p1, p3, p2, probes, scale, repair run.</param>
/// <param name="Fill">Grow the catalog to at least this many entries with synthetic ones first (0: no fill).</param>
/// <param name="ProbeRequests">Requests per latency probe.</param>
/// <param name="Rounds">Rounds a P1, scale-out or P3 window is split into, alternating with as many of its reference.</param>
/// <param name="P2Deflate">When the P2 load deflates its uploads.</param>
internal sealed record Options(string Root, int Seconds, int Warmup, IReadOnlySet<string> Scenarios, long Fill, int ProbeRequests, int Rounds,
    P2Deflate P2Deflate)
{
    /// <summary>The scenarios <c>--only</c> takes.</summary>
    public static readonly string[] All = ["refs", "seeds", "p1", "p3", "p2", "probes", "scale", "repair"];

    /// <summary>The help text (bin/bench --help prints it).</summary>
    public const string Help = """
        Usage: bin/bench [--only seeds,p1,p3,p2,probes,scale,repair] [--seconds N] [--rounds N] [--warmup N] [--fill N]
                         [--p2-deflate ahead|live]

        Measures two references on this machine with the bench's own load generator, then the local cluster
        (bin/cluster, nodes on 127.0.0.1-3) under the same load, and prints every figure as a ratio to its
        reference, next to its target and the Java version's figure. A P1, scale-out or P3 window runs in
        rounds that alternate with rounds of its reference (a fresh one, after 5 s of warm-up; the nodes idle
        meanwhile), so both are measured over the same minutes: the ratio and the verdict are to those rounds,
        the ratio of each pair of rounds and the ratio to the run's first reference are printed beside. The
        re-replication figure is compared with the sink measured right after it.
          references  a minimal durable P1 sink (accept, length, bytes, temp file, fsync, rename) and a UDP
                      responder answering every datagram with a fixed 4,096-byte LST reply, both on 127.0.9.5
          seeds       the Python servers the cluster replaces, reconstructed from the seeds' READMEs
                      (tests/ActorImages.Bench/seeds/; python3): seed 000's P1 server under the p1 load
                      (8 cameras), seed 002's tracker under the p3 mix; each a single process on
                      127.0.9.6, no fsync, state in memory; measured at the start, and in rounds after
                      the reference's in the one-node P1 and the P3 mix windows. The issue's floor,
                      printed as floor: rows: the cluster's one-node P1 and its P3 mix beat them
          p1          8 camera clients, one P1 connection per ~100 KB JPEG (length, bytes, half-close, wait for
                      the close): 1 node with replication factor 1, then 3 nodes with 2; counted: images whose
                      md5 the catalog lists afterwards
          p3          32 UDP clients over 3 nodes, one request outstanding each, 90 % LST / 5 % REG / 5 % UPD;
                      then the same clients with LST only (the read path)
          p2          4 P2 clients over 3 nodes offering permessage-deflate, each uploading a distinct ~900 KB
                      PNG and downloading it again; counted: SUCCESS uploads, downloads with the right md5;
                      compared with seed 001's figure of 34 MB/s (no Python server here)
          probes      one request at a time (~200 each): P2 LIST, LST, LST <offset>, an HTTP page, lookup by
                      md5 and by name, a hit and a miss (default: only with --fill)
          scale       the p1 load over 1, 3 and 5 nodes (replication factor 1, then 2): images per second and
                      the nodes' CPU time per image (PostgreSQL's not counted)
          repair      node 3 of 3 (replication factor 2) killed while 8 UDP clients ask the others for LST;
                      figure: the bytes the survivors gain by self-repair per second, as a ratio to the sink's
                      MB/s (run it after p1 or p2, not with --fill; it leaves node 3 down)
        Every node's peak RSS (VmRSS) is sampled during each window (target <= 300 MB).

        Options:
          --only LIST    scenarios to run, comma-separated (default: p1,p3,p2; with --fill also probes); refs:
                         the two references alone (p1 and p3 measure theirs in any case)
          --seconds N    timed window per scenario (default 10)
          --rounds N     rounds a P1, scale-out or P3 window is split into, each followed by a round of its
                         reference as long (default 4; `sync` before each P1 round)
          --warmup N     untimed load before each window, for the JIT (default 30: three nodes
                         sharing two cores still spend 40 % of their CPU recompiling hot
                         code at tier 1 20-30 s after they start); the sink and the
                         responder warm up 5 s at most (the sink's files would fill this
                         disk's fast write budget, docs/benchmarks.md)
          --fill N       first grow the catalog to N entries with synthetic ones (CatalogStore.FillSyntheticAsync)
          --probes N     requests per latency probe (default 200)
          --p2-deflate W when the P2 clients deflate their uploads: ahead (default; every upload's bytes
                         but its label deflated before the window, so the generator leaves the shared cores
                         to the nodes) or live (each upload deflated as it is sent, as the seed-001 client
                         does on its own machine); either way each upload is a compressed message

        The cluster is reshaped with bin/cluster (its output in run/bench-cluster.log) and left stopped at the
        end; the images the bench stores stay in the catalog. For comparable runs start from an empty catalog:
        bin/cluster down && rm -rf run/node-* run/postgres
        """;

    /// <summary>Parses the command line.</summary>
    /// <exception cref="ArgumentException">An unknown option or a value out of range.</exception>
    public static Options Parse(string[] args)
    {
        string root = Directory.GetCurrentDirectory();
        int seconds = 10, warmup = 30, probes = 200, rounds = 4;
        var p2Deflate = P2Deflate.Ahead;
        long fill = 0;
        HashSet<string>? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException(args[i] + " needs a value");
            int Int(int min, int max) => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
                ? n : throw new ArgumentException($"{args[i - 1]} takes a whole number in {min}..{max}");
            switch (args[i])
            {
                case "--root": root = Value(); break;
                case "--seconds": seconds = Int(1, 600); break;
                case "--warmup": warmup = Int(0, 600); break;
                case "--probes": probes = Int(10, 100_000); break;
                case "--rounds": rounds = Int(1, 20); break;
                case "--p2-deflate":
                    p2Deflate = Value() switch
                    {
                        "ahead" => P2Deflate.Ahead,
                        "live" => P2Deflate.Live,
                        _ => throw new ArgumentException("--p2-deflate takes ahead or live"),
                    };
                    break;
                case "--fill":
                    fill = long.TryParse(Value().Replace("_", "").Replace(",", ""), NumberStyles.None, CultureInfo.InvariantCulture, out long f) && f <= 50_000_000
                        ? f : throw new ArgumentException("--fill takes a number of entries up to 50,000,000");
                    break;
                case "--only":
                    only = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    if (only.Count == 0 || !only.IsSubsetOf(All)) throw new ArgumentException("--only takes refs, seeds, p1, p3, p2, probes, scale, repair, comma-separated");
                    break;
                default: throw new ArgumentException($"unknown option {args[i]} (see bin/bench --help)");
            }
        }
        only ??= fill > 0 ? ["p1", "p3", "p2", "probes"] : ["p1", "p3", "p2"];
        return new Options(Path.GetFullPath(root), seconds, warmup, only, fill, probes, rounds, p2Deflate);
    }
}
