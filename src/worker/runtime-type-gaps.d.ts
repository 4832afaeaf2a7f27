// The Worker's typecheck covers the runtime-neutral core it bundles, which is written against the
// web standards as Node's and the DOM's typings describe them. Where the generated Workers types
// are narrower than the runtime itself, this widens them: clearTimeout(undefined) does nothing, as
// the HTML timers standard has it and workerd implements it.
declare function clearTimeout(timeoutId: number | undefined): void;
