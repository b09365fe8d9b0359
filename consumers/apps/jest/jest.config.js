// Jest's defaults, as a React code base has them: CommonJS, babel-jest, the
// jsdom environment. Nothing for smart-polling.
module.exports = {
  testEnvironment: "jsdom",
};
