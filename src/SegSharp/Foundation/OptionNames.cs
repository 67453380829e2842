using System.Reflection;

namespace SegSharp.Foundation;

/// <summary>
/// The registry of one option kind: the enum <typeparamref name="T"/> is the list of choices and each member's
/// <see cref="OptionNameAttribute"/> its spelling in config files and on the command line. A name lives only on
/// its enum member, so adding a member adds the choice everywhere, and switches over the enum are checked for
/// exhaustiveness by the compiler (no silent default branch).
/// </summary>
public static class OptionNames<T> where T : struct, Enum
{
    private static readonly (T Value, string Name)[] Entries = typeof(T)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => ((T)f.GetValue(null)!, f.GetCustomAttribute<OptionNameAttribute>()?.Name
            ?? throw new InvalidOperationException($"{typeof(T).Name}.{f.Name} has no [OptionName].")))
        .ToArray();

    /// <summary>Every accepted name, in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = Entries.Select(e => e.Name).ToArray();

    /// <summary>The choices as a message fragment: "unet, deeplabv3plus".</summary>
    public static string Choices => string.Join(", ", All);

    public static string Name(T value)
    {
        foreach (var entry in Entries)
            if (EqualityComparer<T>.Default.Equals(entry.Value, value)) return entry.Name;
        throw new ArgumentOutOfRangeException(nameof(value), value, $"not a named {typeof(T).Name}");
    }

    public static bool TryParse(string name, out T value)
    {
        foreach (var entry in Entries)
        {
            if (string.Equals(entry.Name, name, StringComparison.Ordinal))
            {
                value = entry.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>The member named <paramref name="name"/>; a <see cref="SegSharpException"/> listing the choices otherwise.</summary>
    /// <param name="what">What the name is for, e.g. "--precision", for the message.</param>
    public static T Parse(string name, string what) => TryParse(name, out T value)
        ? value
        : throw new SegSharpException($"{what} '{name}' is not known; choose one of {Choices}.");
}
