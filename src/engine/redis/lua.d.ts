// Lua scripts are imported as text (`with { type: "text" }`).
declare module "*.lua" {
  const text: string;
  export default text;
}
