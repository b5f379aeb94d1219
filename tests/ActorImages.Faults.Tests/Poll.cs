namespace ActorImages.Faults.Tests;

/// <summary>Waiting for a condition with a deadline, every wait of the fault scenarios.</summary>
public static class Poll
{
    /// <summary>Asks <paramref name="done"/> every <paramref name="every"/> (default 200 ms) until it is true.</summary>
    /// <param name="within">The deadline.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="done">The condition; an exception counts as false.</param>
    /// <param name="every">Pause between two asks.</param>
    /// <returns>A task that completes when the condition held.</returns>
    /// <exception cref="TimeoutException">Not within the deadline.</exception>
    public static async Task UntilAsync(TimeSpan within, string what, Func<Task<bool>> done, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + within;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await done()) return;
                last = null;
            }
            catch (Exception e)
            {
                last = e;
            }
            if (DateTime.UtcNow >= deadline)
                throw new TimeoutException($"not within {within.TotalSeconds:0.#} s: {what}" + (last is null ? "" : $" (last error: {last.Message})"));
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Asks <paramref name="value"/> until it gives a non-null result, and returns it.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="within">The deadline.</param>
    /// <param name="what">What is awaited.</param>
    /// <param name="value">The value, or null for "not yet"; an exception counts as null.</param>
    /// <returns>The first non-null value.</returns>
    /// <exception cref="TimeoutException">Not within the deadline.</exception>
    public static async Task<T> ValueAsync<T>(TimeSpan within, string what, Func<Task<T?>> value) where T : class
    {
        T? result = null;
        await UntilAsync(within, what, async () => (result = await value()) is not null);
        return result!;
    }
}
