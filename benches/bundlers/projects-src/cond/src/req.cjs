// Bench project: a package resolved through require() (the `require` condition).
module.exports = require("cond-req");
