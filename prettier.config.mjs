// The house style as the code was written: single quotes, semicolons, trailing commas, `(x) =>`.
// printWidth 144 is the width at which `prettier --write` touched the fewest lines of the tree
// (1,073 of 22,072 lines; 100: 2,218, 120: 1,368, 160: 1,165).
export default {
  singleQuote: true,
  printWidth: 144,
};
