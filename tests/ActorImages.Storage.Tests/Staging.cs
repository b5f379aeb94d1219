namespace ActorImages.Storage.Tests;

public static class Staging
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="writer"/> in slices of <paramref name="chunk"/>
    /// bytes, as a socket would hand them over, then finishes it.</summary>
    public static async Task<StagedBlob> Stage(BlobWriter writer, byte[] bytes, int chunk = 64 * 1024,
        long? expectedSize = null)
    {
        for (int offset = 0; offset < bytes.Length; offset += chunk)
        {
            await writer.WriteAsync(bytes.AsMemory(offset, Math.Min(chunk, bytes.Length - offset)));
        }
        return await writer.FinishAsync(expectedSize);
    }
}
