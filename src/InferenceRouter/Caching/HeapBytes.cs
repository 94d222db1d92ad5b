namespace InferenceRouter;

/// <summary>
/// What .NET objects take on the heap of a 64-bit process (CoreCLR): the sizes the cache's memory bounds are counted in. Checked against
/// the real heap by the cache's memory tests (GC.GetTotalMemory before and after filling a store).
/// </summary>
internal static class HeapBytes
{
    /// <summary>An object's header and method-table pointer.</summary>
    public const int ObjectHeader = 16;

    /// <summary>A reference field or array element.</summary>
    public const int Reference = 8;

    /// <summary>Returns the bytes of a string of <paramref name="length"/> UTF-16 chars (header, length, chars, terminator).</summary>
    public static long String(int length) => Align(ObjectHeader + sizeof(int) + (2L * length) + 2);

    /// <summary>Returns the bytes of a string, or 0 for none.</summary>
    public static long String(string? text) => text is null ? 0 : String(text.Length);

    /// <summary>Returns the bytes of an array of <paramref name="length"/> elements of <paramref name="elementBytes"/> each.</summary>
    public static long Array(long length, int elementBytes) => Align(ObjectHeader + sizeof(long) + (length * elementBytes));

    /// <summary>Returns the bytes of an object with <paramref name="fieldBytes"/> of fields (objects take at least 24 bytes).</summary>
    public static long Object(int fieldBytes) => Math.Max(24, Align(ObjectHeader + fieldBytes));

    private static long Align(long bytes) => (bytes + 7) & ~7L;
}
