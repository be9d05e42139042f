// Path navigation: fields, arrays, predicates, wildcards, descendants,
// parent, grouping, sorting and the context/positional bindings. Expected
// values are those of the JSONata documentation's examples.
#include "engine/asl/jsonata/test_util.h"

namespace onewindow::asl::jsonata::testing {
namespace {

TEST(PathTest, NavigatesObjects) {
  CheckAll(
      {
          {"Surname", R"("Smith")"},
          {"Age", "28"},
          {"Address.City", R"("Winchester")"},
          {"Other.Misc", "null"},
          {"Other.Nothing", "undefined"},
          {"Other.`Over 18 ?`", "true"},
          {"Other.`Alternative.Address`.City", R"("London")"},
          {"Address.Nope.City", "undefined"},
          {"$.Surname", R"("Smith")"},
          {"$$.Address.Postcode", R"("SO21 2JN")"},
      },
      &Address());
}

TEST(PathTest, StepsAfterAFilteredArrayConstructor) {
  // The filter leaves one plain value; the next step reads it as a
  // sequence of one (these crashed the evaluator once).
  CheckAll(
      {
          {"[1][0].x", "undefined"},
          {"[1][0].$", "1"},
          {"[{\"x\": 5}][0].x", "5"},
          {"- [5, 6][1].x", "undefined"},
          {"[[1, 2]][0].$", "[1, 2]"},
      },
      nullptr);
}

TEST(PathTest, NavigatesArrays) {
  CheckAll(
      {
          {"Phone[0]", R"({"type": "home", "number": "0203 544 1234"})"},
          {"Phone[1]", R"({"type": "office", "number": "01962 001234"})"},
          {"Phone[-1]", R"({"type": "mobile", "number": "077 7700 1234"})"},
          {"Phone[-2]", R"({"type": "office", "number": "01962 001235"})"},
          {"Phone[8]", "undefined"},
          {"Phone[0].number", R"("0203 544 1234")"},
          {"Phone.number",
           R"(["0203 544 1234", "01962 001234", "01962 001235", "077 7700 1234"])"},
          {"Phone.number[0]",
           R"(["0203 544 1234", "01962 001234", "01962 001235", "077 7700 1234"])"},
          {"(Phone.number)[0]", R"("0203 544 1234")"},
          {"Phone[[0..1]]",
           R"([{"type": "home", "number": "0203 544 1234"}, {"type": "office", "number": "01962 001234"}])"},
          {"Phone[0.5]", R"({"type": "home", "number": "0203 544 1234"})"},
          {"Email.address",
           R"(["fred.smith@my-work.com", "fsmith@my-work.com", "freddy@my-social.com", "frederic.smith@very-serious.com"])"},
          {"Email[0].address",
           R"(["fred.smith@my-work.com", "fsmith@my-work.com"])"},
          {"Email[0].address[0]", R"("fred.smith@my-work.com")"},
      },
      &Address());
}

TEST(PathTest, TopLevelArrays) {
  Json input = Json::parse(R"([{"ref": [1, 2]}, {"ref": [3, 4]}])");
  CheckAll(
      {
          {"$[0]", R"({"ref": [1, 2]})"},
          {"$[0].ref", "[1, 2]"},
          {"$[0].ref[0]", "1"},
          {"$.ref", "[1, 2, 3, 4]"},
          {"ref", "[1, 2, 3, 4]"},
          {"$", R"([{"ref": [1, 2]}, {"ref": [3, 4]}])"},
          {"$count($)", "2"},
      },
      &input);
  Json single = Json::parse("[7]");
  CheckAll({{"$", "[7]"}, {"$[0]", "7"}}, &single);
}

TEST(PathTest, Predicates) {
  CheckAll(
      {
          {"Phone[type='mobile']",
           R"({"type": "mobile", "number": "077 7700 1234"})"},
          {"Phone[type='mobile'].number", R"("077 7700 1234")"},
          {"Phone[type='office'].number",
           R"(["01962 001234", "01962 001235"])"},
          {"Phone[type!='office'].type", R"(["home", "mobile"])"},
          {"Phone[number][0].type", R"("home")"},
          {"Phone[type='none']", "undefined"},
          {"Phone[type='office'][1].number", R"("01962 001235")"},
          {"Phone[true]", R"([{"type": "home", "number": "0203 544 1234"},
             {"type": "office", "number": "01962 001234"},
             {"type": "office", "number": "01962 001235"},
             {"type": "mobile", "number": "077 7700 1234"}])"},
          {"Phone[false]", "undefined"},
          {"Phone[$contains(number, '1234')].type",
           R"(["home", "office", "mobile"])"},
      },
      &Address());
}

TEST(PathTest, SingletonArrays) {
  Json input =
      Json::parse(R"({"a": [1], "b": [{"c": 1}], "d": [{"e": 5}, {"e": 6}]})");
  CheckAll(
      {
          {"a", "[1]"},
          {"a[0]", "1"},
          {"b.c", "1"},
          {"b.c[]", "[1]"},
          {"b[].c", "[1]"},
          {"d[e=5].e", "5"},
          {"d[e=5].e[]", "[5]"},
          {"d.e", "[5, 6]"},
      },
      &input);
}

TEST(PathTest, Wildcards) {
  CheckAll(
      {
          // Members of input objects come in key order (nlohmann::json keeps
          // objects sorted), not in the order of the JSON text.
          {"Address.*", R"(["Winchester", "SO21 2JN", "Hursley Park"])"},
          {"*.Postcode", R"("SO21 2JN")"},
          {"**.Postcode", R"(["SO21 2JN", "E1 6RF"])"},
          {"Other.*.City", R"("London")"},
      },
      &Address());
  Json nested = Json::parse(R"({"a": {"b": [1, [2, 3]], "c": 4}})");
  CheckAll({{"a.*", "[1, 2, 3, 4]"}, {"$count(**)", "6"}}, &nested);
}

TEST(PathTest, ContextAndMapping) {
  CheckAll(
      {
          {"Address.(Street & ', ' & City)", R"("Hursley Park, Winchester")"},
          {"Phone.(type & ': ' & number)[0]",
           R"(["home: 0203 544 1234", "office: 01962 001234", "office: 01962 001235",
               "mobile: 077 7700 1234"])"},
          {"(Phone.(type & ': ' & number))[0]", R"("home: 0203 544 1234")"},
          {"Address.$",
           R"({"Street": "Hursley Park", "City": "Winchester", "Postcode": "SO21 2JN"})"},
          {"Phone.$count($$.Phone)", "[4, 4, 4, 4]"},
          {"Phone.{type: number}",
           R"([{"home": "0203 544 1234"}, {"office": "01962 001234"}, {"office": "01962 001235"},
               {"mobile": "077 7700 1234"}])"},
          {"Phone{type: number}",
           R"({"home": "0203 544 1234", "office": ["01962 001234", "01962 001235"],
               "mobile": "077 7700 1234"})"},
          {"Phone{type: number[]}",
           R"({"home": ["0203 544 1234"], "office": ["01962 001234", "01962 001235"],
               "mobile": ["077 7700 1234"]})"},
          {"Phone{type: $count(number)}",
           R"({"home": 1, "office": 2, "mobile": 1})"},
      },
      &Address());
}

TEST(PathTest, AccountExamples) {
  CheckAll(
      {
          {"$sum(Account.Order.Product.(Price * Quantity))", "336.36"},
          {"Account.Order.Product.(Price * Quantity)",
           "[68.9, 21.67, 137.8, 107.99]"},
          {"Account.Order.(Product.(Price * Quantity))",
           "[68.9, 21.67, 137.8, 107.99]"},
          {"Account.Order.$sum(Product.(Price * Quantity))",
           "[90.57000000000001, 245.79000000000002]"},
          {"Account.Order.$round($sum(Product.(Price * Quantity)), 2)",
           "[90.57, 245.79]"},
          {"Account.Order[0].OrderID", R"("order103")"},
          {"Account.Order.Product[0].`Product Name`",
           R"(["Bowler Hat", "Bowler Hat"])"},
          {"Account.Order.Product.`Product Name`",
           R"(["Bowler Hat", "Trilby hat", "Bowler Hat", "Cloak"])"},
          {"Account.Order.Product{`Product Name`: Price}",
           R"({"Bowler Hat": [34.45, 34.45], "Trilby hat": 21.67, "Cloak": 107.99})"},
          {"Account.Order.Product{`Product Name`: $sum(Quantity)}",
           R"({"Bowler Hat": 6, "Trilby hat": 1, "Cloak": 1})"},
          {"Account.Order.Product^(Price).Description.Colour",
           R"(["Orange", "Purple", "Purple", "Black"])"},
          {"Account.Order.Product^(>Price).SKU",
           R"(["0406654603", "0406654608", "040657863", "0406634348"])"},
          {"Account.Order.Product^(>Price, <Quantity).Quantity",
           "[1, 2, 4, 1]"},
          {"Account.Order.Product^(`Product Name`).`Product Name`",
           R"(["Bowler Hat", "Bowler Hat", "Cloak", "Trilby hat"])"},
          {"$count(Account.Order.Product[Price > 30])", "3"},
          {"Account.Order[Product[Price > 100]].OrderID", R"("order104")"},
          {"Account.Order[Product.Price > 100].OrderID", "error T2010"},
      },
      &Account());
}

TEST(PathTest, ParentOperator) {
  CheckAll(
      {
          {"Account.Order.Product.{'Product': `Product Name`, 'Order': "
           "%.OrderID, "
           "'Account': %.%.`Account Name`}",
           R"([{"Product": "Bowler Hat", "Order": "order103", "Account": "Firefly"},
               {"Product": "Trilby hat", "Order": "order103", "Account": "Firefly"},
               {"Product": "Bowler Hat", "Order": "order104", "Account": "Firefly"},
               {"Product": "Cloak", "Order": "order104", "Account": "Firefly"}])"},
          {"Account.Order.Product[%.OrderID='order104'].SKU",
           R"(["040657863", "0406654603"])"},
          {"Account.Order.Product.Description.Colour.%.%.`Product Name`",
           R"(["Bowler Hat", "Trilby hat", "Bowler Hat", "Cloak"])"},
      },
      &Account());
}

TEST(PathTest, ContextVariableBinding) {
  Json library = Json::parse(R"({
    "library": {
      "books": [
        {"title": "Structure and Interpretation of Computer Programs", "isbn": "0262510871"},
        {"title": "The C Programming Language", "isbn": "0131103628"},
        {"title": "Compilers", "isbn": "0201100886"}
      ],
      "loans": [
        {"customer": "10001", "isbn": "0262510871"},
        {"customer": "10003", "isbn": "0201100886"},
        {"customer": "10002", "isbn": "0131103628"}
      ],
      "customers": [
        {"id": "10001", "name": "Joe Doe"},
        {"id": "10002", "name": "Fred Bloggs"},
        {"id": "10003", "name": "Jason Arthur"}
      ]
    }
  })");
  CheckAll(
      {
          {"library.loans@$l.books@$b[$l.isbn=$b.isbn].{'title': $b.title, "
           "'customer': $l.customer}",
           R"([{"title": "Structure and Interpretation of Computer Programs", "customer": "10001"},
               {"title": "Compilers", "customer": "10003"},
               {"title": "The C Programming Language", "customer": "10002"}])"},
          {"(library.loans)@$l.(library.books)@$b[$l.isbn=$b.isbn].{'book': "
           "$b.title}",
           R"([{"book": "Structure and Interpretation of Computer Programs"},
               {"book": "Compilers"}, {"book": "The C Programming Language"}])"},
          {"library.books#$i[$i < 2].title",
           R"(["Structure and Interpretation of Computer Programs", "The C Programming Language"])"},
          {"library.books#$i.{'n': $i, 't': isbn}",
           R"([{"n": 0, "t": "0262510871"}, {"n": 1, "t": "0131103628"}, {"n": 2, "t": "0201100886"}])"},
          {"library.books[title='Compilers']#$i.$i", "0"},
      },
      &library);
}

TEST(PathTest, SortAndPositionTogether) {
  Json input = Json::parse(R"({"xs": [{"v": 3}, {"v": 1}, {"v": 2}]})");
  CheckAll(
      {
          {"xs^(v)#$i.{'i': $i, 'v': v}",
           R"([{"i": 0, "v": 1}, {"i": 1, "v": 2}, {"i": 2, "v": 3}])"},
          {"xs^(>v).v", "[3, 2, 1]"},
          {"xs^(v)[0].v", "1"},
          {"[3, 1, 2]^($)", "[1, 2, 3]"},
          {"[{'a': 1}, {'b': 2}, {'a': 0}]^(a)",
           R"([{"a": 0}, {"a": 1}, {"b": 2}])"},
          {"xs^(v = 1)", "error T2008"},
          {"[{'a': 1}, {'a': 'x'}]^(a)", "error T2007"},
      },
      &input);
}

TEST(PathTest, InputUndefined) {
  CheckAll(
      {
          {"a", "undefined"},
          {"$", "undefined"},
          {"a.b", "undefined"},
          {"*", "undefined"},
          {"**", "undefined"},
          {"1 + 1", "2"},
          {"$x", "undefined"},
      },
      nullptr);
}

}  // namespace
}  // namespace onewindow::asl::jsonata::testing
