export function greet(who) {
  return `Hello, ${who}!`;
}
