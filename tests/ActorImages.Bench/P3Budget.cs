using System.Globalization;

namespace ActorImages.Bench;

/// <summary>
/// The machine's CPU per request in the P3 rounds (README "What bounds each miss"): the mix, the read path alone, the
/// responder's rounds, each as the machine's busy time per reply (every process and the kernel's loopback work) and
/// by process group; from the two node windows, what a write (<c>REG</c> or <c>UPD</c>) took of it; and from the
/// responder's rate, what the target would leave a write. Closed-loop clients on two saturated cores get about as
/// many replies per second as the cores divided by the CPU per reply, so these figures say how far the writes' cost
/// is from what 0.8× the responder allows. The <c>LST</c>s of the mix are taken to cost what they cost alone.
/// </summary>
internal static class P3Budget
{
    /// <summary>The target's share of the responder's rate (issue "Hot paths", P3: at least 0.8×).</summary>
    public const double TargetRatio = 0.8;

    /// <summary>Two lines: each window's CPU per reply, then a write's cost against the target's allowance.</summary>
    /// <param name="mix">The mix's rounds, merged.</param>
    /// <param name="mixCpu">What the mix's rounds spent.</param>
    /// <param name="reads">The <c>LST</c>-only rounds, merged.</param>
    /// <param name="readsCpu">What they spent.</param>
    /// <param name="responder">The responder's rounds, merged.</param>
    /// <param name="responderCpu">What they spent; <see cref="CpuSpent.Others"/> is the responder's own process.</param>
    /// <returns>The lines, without indentation; one saying why when a window has no replies or no CPU was read.</returns>
    public static IReadOnlyList<string> Describe(P3Load.Result mix, CpuSpent mixCpu, P3Load.Result reads, CpuSpent readsCpu,
        P3Load.Result responder, CpuSpent responderCpu)
    {
        long writes = mix.Writes.Count, lsts = mix.Lst.Count;
        if (mix.Requests == 0 || reads.Requests == 0 || responder.Requests == 0 || writes == 0 || mixCpu.Busy <= TimeSpan.Zero)
            return ["CPU per request: not measured (a window without replies or writes, or no /proc)"];
        static double Us(TimeSpan t, long n) => t.TotalMilliseconds * 1000 / n;
        double lst = Us(readsCpu.Busy, reads.Requests);
        // The mix's time less its LSTs at their cost alone, over its writes: the machine's, and each group's.
        double Write(Func<CpuSpent, TimeSpan> part) =>
            (part(mixCpu).TotalMilliseconds * 1000 - Us(part(readsCpu), reads.Requests) * lsts) / writes;
        double write = Write(c => c.Busy);
        // At the target's rate, on the cores the mix kept busy: the CPU a reply may take, and what leaves for a write.
        double targetRate = TargetRatio * responder.PerSecond;
        double allowed = mixCpu.Busy.TotalSeconds / mix.Seconds / targetRate * 1e6;
        double writeShare = writes / (double)(writes + lsts);
        double writeAllowed = (allowed - (1 - writeShare) * lst) / writeShare;
        return
        [
            "CPU per reply, the machine's busy time (by process): mix "
                + mixCpu.PerUnit(mix.Requests, mix.Seconds, 1e6, "µs", null)
                + "; LST only " + readsCpu.PerUnit(reads.Requests, reads.Seconds, 1e6, "µs", null)
                + "; the responder's rounds "
                + responderCpu.PerUnit(responder.Requests, responder.Seconds, 1e6, "µs", "responder"),
            string.Create(CultureInfo.InvariantCulture,
                $"so a write (REG or UPD, {writeShare * 100:0.0} % of the mix) took about {write:0} µs of the machine's CPU "
                + $"(nodes {Write(c => c.Nodes):0}, PostgreSQL {Write(c => c.Postgres):0}, load generator {Write(c => c.Generator):0}), "
                + $"an LST {lst:0.0} (its cost alone); {TargetRatio:0.0}x the responder ({Fmt.N(targetRate)} req/s) on the mix's "
                + $"{mixCpu.BusyCores(mix.Seconds)} busy cores allows {allowed:0.0} µs per reply, ")
                + (writeAllowed > 0
                    ? string.Create(CultureInfo.InvariantCulture,
                        $"which leaves a write {writeAllowed:0} µs ({write / writeAllowed:0.0}x less than it took)")
                    : "which the LSTs alone exceed"),
        ];
    }
}
